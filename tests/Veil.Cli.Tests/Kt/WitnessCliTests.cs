using System.Net;
using System.Text;
using Veil.Crypto.Primitives;
using Veil.Crypto.Transparency;

namespace Veil.Cli.Tests.Kt;

/// <summary>`veil witness serve` as a real process: it prints its address and key, answers tlog-witness requests,
/// stops on SIGTERM, keeps its key across restarts, and refuses a bad --log-key in one line.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class WitnessCliTests : IDisposable
{
    private readonly string _data = Path.Combine(Path.GetTempPath(), "veil-witness-cli-" + Guid.NewGuid().ToString("N")[..12]);
    private readonly Ed25519PrivateKey _logKey = Ed25519PrivateKey.Generate();

    public void Dispose()
    {
        _logKey.Dispose();
        if (Directory.Exists(_data))
        {
            Directory.Delete(_data, recursive: true);
        }
    }

    [Fact]
    public async Task Serve_CosignsTheLogsCheckpoint_StopsOnSigterm_AndKeepsItsKey()
    {
        var signer = new Ed25519NoteSigner("cli.test/kt", _logKey);
        string vkey;
        using (var witness = VeilProcess.Start(["witness", "serve", "--listen", "127.0.0.1:0", "--data", _data, "--log-key", signer.VerifierKey, "--name", "cli.test/w1"]))
        {
            var url = await witness.WaitForListeningAsync(TimeSpan.FromSeconds(60));
            using var http = new HttpClient { BaseAddress = url };
            vkey = (await http.GetStringAsync(new Uri("/vkey", UriKind.Relative))).Trim();
            var note = SignedNote.Sign(new Checkpoint("cli.test/kt", 0, MerkleHasher.EmptyRoot()).ToText(), signer).ToBytes();
            using var response = await http.PostAsync(new Uri("/add-checkpoint", UriKind.Relative), new ByteArrayContent(new AddCheckpointRequest(0, [], note).ToBytes()));
            var line = await response.Content.ReadAsStringAsync();

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Contains("Witness key: " + vkey, witness.Stdout, StringComparison.Ordinal);
            Assert.NotNull(SignedNote.Open(Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(note) + line), [CosignatureV1Verifier.Parse(vkey)!]));
            await witness.TerminateAsync();
            Assert.Equal(0, await witness.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        }

        using var again = VeilProcess.Start(["witness", "serve", "--listen", "127.0.0.1:0", "--data", _data, "--log-key", signer.VerifierKey]);
        await again.WaitForListeningAsync(TimeSpan.FromSeconds(60));
        Assert.Contains("Witness key: " + vkey, again.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_WithAnUnreadableLogKey_FailsInOneLine()
    {
        using var witness = VeilProcess.Start(["witness", "serve", "--listen", "127.0.0.1:0", "--data", _data, "--log-key", "not-a-key"]);

        Assert.Equal(1, await witness.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Equal("veil: --log-key 'not-a-key' is not an Ed25519 verifier key (name+id+key, as GET /kt/vkey prints it).", witness.Stderr.Trim());
    }
}
