// The log publishes a checkpoint only once a quorum of its witnesses cosigned it: three real witnesses
// (WitnessServer, Kestrel on loopback) and a Veil node configured with them and a quorum of two, on SQLite or
// PostgreSQL. The witnesses are started after a first node (they need the log's key, which derives from the keyring
// that node created); the node under test shares its database and data directory (NodeOf) and names the witnesses.
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Veil.Crypto.Transparency;
using Veil.Server.Tests.Chat;
using Veil.Server.Tests.Kit;
using Veil.Server.Transparency;
using Veil.Server.Witness;

namespace Veil.Server.Tests.Transparency;

public sealed class KtWitnessQuorumTests : IAsyncLifetime
{
    private const string Origin = "veil.test/kt";
    private readonly List<string> _directories = [];
    private readonly WitnessServer?[] _witnesses = new WitnessServer?[3];
    private VeilTestServer _first = null!;
    private VeilTestServer _node = null!;

    public async Task InitializeAsync()
    {
        _first = await KtKit.StartKtServerAsync(o => o.Settings["Veil:KeyTransparency:Origin"] = Origin);
        var logKey = SignedNote.FormatVerifierKey(Origin, NoteSignatureType.Ed25519, _first.Services.GetRequiredService<KtLogKey>().PublicKey.Bytes);
        for (var i = 0; i < _witnesses.Length; i++)
        {
            var directory = WitnessKit.NewDirectory();
            _directories.Add(directory);
            _witnesses[i] = await WitnessKit.StartWitnessAsync(directory, null, logKey);
        }

        _node = await ChatKit.StartChatServerAsync(_first, o =>
        {
            o.Settings["Veil:KeyTransparency:SequencerInterval"] = "00:10:00";
            o.Settings["Veil:KeyTransparency:Origin"] = Origin;
            o.Settings["Veil:KeyTransparency:WitnessQuorum"] = "2";
            o.Settings["Veil:KeyTransparency:WitnessTimeout"] = "00:00:10";
            for (var i = 0; i < _witnesses.Length; i++)
            {
                o.Settings[$"Veil:KeyTransparency:Witnesses:{i}:Url"] = _witnesses[i]!.Address.ToString();
                o.Settings[$"Veil:KeyTransparency:Witnesses:{i}:VerifierKey"] = _witnesses[i]!.VerifierKey;
            }
        });
    }

    public async Task DisposeAsync()
    {
        foreach (var witness in _witnesses.Where(w => w is not null))
        {
            await witness!.DisposeAsync();
        }

        await _node.DisposeAsync();
        await _first.DisposeAsync();
        foreach (var directory in _directories)
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task AllWitnessesUp_PublishesWithTheirCosignatures_ThatThePolicyVerifies()
    {
        await _node.PairAsync();

        await _node.SequenceAsync();
        var (checkpoint, cosigners) = await PublishedAsync();

        Assert.Equal(4, checkpoint.Size);
        Assert.Equal(3, cosigners);
    }

    [Fact]
    public async Task OneWitnessDown_StillPublishes()
    {
        await StopWitnessAsync(0);
        await _node.PairAsync();

        await _node.SequenceAsync();
        var (checkpoint, cosigners) = await PublishedAsync();

        Assert.Equal(4, checkpoint.Size);
        Assert.Equal(2, cosigners);
    }

    [Fact]
    public async Task TwoWitnessesDown_StaysAtTheOldCheckpoint_AndShowsNewEntriesAsPending()
    {
        var (alice, bob, _, _) = await _node.PairAsync();
        await _node.SequenceAsync();
        Assert.Equal(4, (await PublishedAsync()).Checkpoint.Size);
        await StopWitnessAsync(0);
        await StopWitnessAsync(1);

        await _node.AddDeviceAsync(alice, 2);
        await _node.SequenceAsync();
        var (checkpoint, _) = await PublishedAsync();
        var lookup = (await _node.BundlesAsync(bob.Token, alice.Id)).GetProperty("transparency");

        Assert.Equal(4, checkpoint.Size);
        Assert.Equal(4, lookup.GetProperty("size").GetInt64());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, lookup.GetProperty("entries").EnumerateArray().Last().GetProperty("index").ValueKind);
        Assert.Contains("short of the quorum", _node.Logs.AllText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ANodeThatDoesNotKnowTheWitnessSizes_CatchesUpFromTheir409()
    {
        await _node.PairAsync();
        await _node.SequenceAsync();
        await using var other = await ChatKit.StartChatServerAsync(_first, o =>
        {
            o.Settings["Veil:KeyTransparency:SequencerInterval"] = "00:10:00";
            o.Settings["Veil:KeyTransparency:WitnessQuorum"] = "3";
            for (var i = 0; i < _witnesses.Length; i++)
            {
                o.Settings[$"Veil:KeyTransparency:Witnesses:{i}:Url"] = _witnesses[i]!.Address.ToString();
                o.Settings[$"Veil:KeyTransparency:Witnesses:{i}:VerifierKey"] = _witnesses[i]!.VerifierKey;
            }
        });

        await other.AddDeviceAsync(await other.NewChatUserAsync(), 1);
        await other.SequenceAsync();
        var (checkpoint, cosigners) = await PublishedAsync();

        Assert.Equal(6, checkpoint.Size);
        Assert.Equal(3, cosigners);
    }

    /// <summary>GET /kt/checkpoint opened with GET /kt/policy (the log key and the witnesses with quorum 2).</summary>
    private async Task<(Checkpoint Checkpoint, int Cosigners)> PublishedAsync()
    {
        var policyText = await _node.Client.GetStringAsync(new Uri("/kt/policy", UriKind.Relative));
        Assert.True(TlogPolicy.TryParse(policyText, out var policy, out var error), error);
        Assert.Equal(_witnesses.Length, policy.Witnesses.Count);
        var bytes = await _node.Client.GetByteArrayAsync(new Uri("/kt/checkpoint", UriKind.Relative));
        var checkpoint = policy.OpenCheckpoint(bytes);
        Assert.NotNull(checkpoint);
        Assert.True(SignedNote.TryParse(bytes, out var note));
        return (checkpoint, policy.Cosigners(note).Count);
    }

    private async Task StopWitnessAsync(int i)
    {
        await _witnesses[i]!.DisposeAsync();
        _witnesses[i] = null;
    }
}
