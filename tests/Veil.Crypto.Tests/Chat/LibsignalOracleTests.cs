// libsignal-client 0.103.0 (npm, AGPL-3.0) as a TEST-ONLY oracle, through node: it parses 1,000 Veil v3
// messages (SignalMessage and PreKeySignalMessage, several ratchet steps, both directions) and rebuilds
// each from its fields and MAC key with its own constructor; the bytes must be Veil's exactly, which checks
// the version byte, the protobuf layout, the counters, the keys and the MAC over both identities.
// test.sh installs the oracle (tests/oracle/libsignal, npm ci) and sets VEIL_REQUIRE_LIBSIGNAL=1; without
// it, a plain `dotnet test` on a machine without the module reports that and passes.
// Sealed sender v1: libsignal seals and Veil opens, and Veil seals and libsignal opens (sealedSenderDecryptToUsmc);
// the sealed retry request (DecryptionErrorMessage) libsignal makes is read by Veil and re-made byte for byte.
using System.Diagnostics;
using System.Text.Json;
using Veil.Crypto.Chat;
using Veil.Crypto.Primitives;
using Xunit.Abstractions;

namespace Veil.Crypto.Tests.Chat;

public sealed class LibsignalOracleTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Libsignal_parses_1000_Veil_messages_with_matching_counters_keys_and_macs()
    {
        if (Oracle() is not { } oracle)
        {
            return;
        }

        var lines = new List<string>();
        var keys = new List<(byte[] MacKey, byte[] Sender, byte[] Receiver)>();
        using var pair = new ChatPair(established: false);
        pair.Alice.Initiate(pair.Bob);
        var random = new Random(18);
        var (from, to) = (pair.Alice, pair.Bob);
        while (lines.Count < 1_000)
        {
            // Bursts of 1..20 messages, then the other side talks: many chains, counters and previous counters.
            var burst = random.Next(1, 21);
            for (var i = 0; i < burst && lines.Count < 1_000; i++)
            {
                var macKey = new byte[32];
                var message = SessionCipher.Encrypt(from.Record, "m"u8.ToArray().Concat(new byte[random.Next(0, 400)]).ToArray(), macKey);
                lines.Add(Describe(message, macKey, from, to));
                keys.Add((macKey, ChatPublicKey.Serialize(from.Device.IdentityKey.PublicKey), ChatPublicKey.Serialize(to.Device.IdentityKey.PublicKey)));
                Assert.Equal(ChatDecryptStatus.Ok, to.Receive(message).Status);
            }

            (from, to) = (to, from);
        }

        // A control: one more message whose MAC is wrong by one bit must be the oracle's only complaint.
        var control = SessionCipher.Encrypt(from.Record, "control"u8, new byte[32]);
        var wrongKey = new byte[32];
        var controlLine = Describe(control, wrongKey, from, to);

        var result = await RunNode(oracle, ["check-messages.mjs"], [.. lines, controlLine]);
        output.WriteLine(result[..Math.Min(result.Length, 400)]);
        using var summary = JsonDocument.Parse(result);
        Assert.Equal(1_001, summary.RootElement.GetProperty("checked").GetInt32());
        var failures = summary.RootElement.GetProperty("failures").EnumerateArray().Select(f => f.GetString()!).ToList();
        Assert.Equal(["message 1000: Veil's MAC is not libsignal's rule"], failures);

        // The other way: libsignal's own rebuilt messages (version byte 0x34, its MAC) parse in Veil and their
        // MACs verify with Veil's code under the same keys.
        var rebuilt = summary.RootElement.GetProperty("rebuilt").EnumerateArray().Select(e => Convert.FromHexString(e.GetString()!)).ToList();
        Assert.Equal(1_001, rebuilt.Count);
        for (var i = 0; i < keys.Count; i++)
        {
            var theirs = SignalMessage.TryParse(rebuilt[i]);
            Assert.NotNull(theirs);
            Assert.Equal(0x34, rebuilt[i][0]);
            Assert.True(theirs.VerifyMac(keys[i].MacKey, keys[i].Sender, keys[i].Receiver), $"libsignal message {i}");
        }
    }

    [Fact]
    public async Task Sealed_sender_v1_envelopes_open_both_ways_between_Veil_and_libsignal()
    {
        if (Oracle() is not { } oracle)
        {
            return;
        }

        using var sender = X25519PrivateKey.Generate();
        using var recipient = X25519PrivateKey.Generate();
        var senderPrivate = new byte[32];
        sender.ExportPrivateKey(senderPrivate);
        var recipientPrivate = new byte[32];
        recipient.ExportPrivateKey(recipientPrivate);

        // libsignal seals (with a libsignal sender certificate for the sender's key); Veil opens.
        var made = JsonDocument.Parse(await RunNode(oracle, ["sealed.mjs", "make"], [JsonSerializer.Serialize(new
        {
            senderPrivate = Convert.ToHexString(senderPrivate),
            recipientPublic = Convert.ToHexString(ChatPublicKey.Serialize(recipient.PublicKey)),
        })]));
        var certificate = Convert.FromHexString(made.RootElement.GetProperty("certificate").GetString()!);
        var opened = SealedSender.Open(recipient, Convert.FromHexString(made.RootElement.GetProperty("envelope").GetString()!));
        Assert.NotNull(opened);
        Assert.Equal(sender.PublicKey, opened.SenderIdentity);
        Assert.Equal(SealedContentType.Plaintext, opened.Content.Type);
        Assert.Equal(1u, opened.Content.ContentHint);
        Assert.Equal(certificate, opened.Content.SenderCertificate);
        Assert.Equal(Convert.FromHexString(made.RootElement.GetProperty("contents").GetString()!), opened.Content.Content);

        // The content is libsignal's retry request (DecryptionErrorMessage): Veil reads it and writes the same bytes.
        var original = Convert.FromHexString(made.RootElement.GetProperty("original").GetString()!);
        var retry = ChatRetryRequest.TryParse(opened.Content.Content);
        Assert.NotNull(retry);
        Assert.Equal(new ChatRetryRequest(SignalMessage.TryParse(original)!.RatchetKey, 1_765_000_000_000, 1), retry);
        Assert.Equal(opened.Content.Content, ChatRetryRequest.ForOriginal(original, SealedContentType.Message, 1_765_000_000_000, 1).Serialize());

        // Veil seals a ratchet message (carrying libsignal's certificate, which libsignal can parse); libsignal opens.
        using var pair = new ChatPair();
        var message = pair.Alice.Encrypt("sealed").Serialized;
        var envelope = SealedSender.Seal(sender, recipient.PublicKey, new SealedContent(SealedContentType.Message, certificate, message, ContentHint: 1))!;
        var read = JsonDocument.Parse(await RunNode(oracle, ["sealed.mjs", "open"], [JsonSerializer.Serialize(new
        {
            recipientPrivate = Convert.ToHexString(recipientPrivate),
            envelope = Convert.ToHexString(envelope),
        })]));
        Assert.Equal(2, read.RootElement.GetProperty("type").GetInt32());
        Assert.Equal(1, read.RootElement.GetProperty("hint").GetInt32());
        Assert.Equal(message, Convert.FromHexString(read.RootElement.GetProperty("contents").GetString()!));
        Assert.Equal(ChatPublicKey.Serialize(sender.PublicKey), Convert.FromHexString(read.RootElement.GetProperty("senderKey").GetString()!));
    }

    private static string Describe(ChatCiphertext message, byte[] macKey, ChatParty from, ChatParty to)
    {
        var preKey = message.IsPreKey ? PreKeySignalMessage.TryParse(message.Serialized)! : null;
        var signal = preKey?.Message ?? SignalMessage.TryParse(message.Serialized)!;
        return JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["serialized"] = Convert.ToHexString(message.Serialized),
            ["inner"] = Convert.ToHexString(signal.Serialized),
            ["macKey"] = Convert.ToHexString(macKey),
            ["ratchetKey"] = Convert.ToHexString(ChatPublicKey.Serialize(signal.RatchetKey)),
            ["counter"] = signal.Counter,
            ["previousCounter"] = signal.PreviousCounter,
            ["ciphertext"] = Convert.ToHexString(signal.Ciphertext),
            ["senderIdentity"] = Convert.ToHexString(ChatPublicKey.Serialize(from.Device.IdentityKey.PublicKey)),
            ["receiverIdentity"] = Convert.ToHexString(ChatPublicKey.Serialize(to.Device.IdentityKey.PublicKey)),
            ["preKey"] = preKey is null ? null : new Dictionary<string, object?>
            {
                ["registrationId"] = preKey.RegistrationId,
                ["preKeyId"] = preKey.PreKeyId,
                ["signedPreKeyId"] = preKey.SignedPreKeyId,
                ["baseKey"] = Convert.ToHexString(ChatPublicKey.Serialize(preKey.BaseKey)),
            },
        });
    }

    private static async Task<string> RunNode(string oracle, string[] arguments, List<string> lines)
    {
        var start = new ProcessStartInfo("node", [Path.Combine(oracle, arguments[0]), .. arguments[1..]])
        {
            WorkingDirectory = oracle,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        foreach (var line in lines)
        {
            await process.StandardInput.WriteLineAsync(line);
        }

        process.StandardInput.Close();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, "node failed: " + await stderr);
        return (await stdout).Trim();
    }

    /// <summary>The oracle's folder; null (noted in the output) when it is not installed and test.sh did not require it.</summary>
    private string? Oracle()
    {
        var oracle = FindOracle();
        if (oracle is null)
        {
            Assert.True(Environment.GetEnvironmentVariable("VEIL_REQUIRE_LIBSIGNAL") != "1",
                "The libsignal oracle is required but tests/oracle/libsignal/node_modules is missing: run `npm ci` there (test.sh does).");
            output.WriteLine("libsignal oracle not installed (tests/oracle/libsignal: npm ci); skipped.");
        }

        return oracle;
    }

    private static string? FindOracle()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "tests", "oracle", "libsignal");
            if (Directory.Exists(Path.Combine(candidate, "node_modules", "@signalapp", "libsignal-client")))
            {
                return candidate;
            }
        }

        return null;
    }
}
