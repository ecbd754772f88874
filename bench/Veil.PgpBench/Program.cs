// One run, medians: encrypt+sign and decrypt+verify of 100 KiB and 10 MiB messages with
//   Veil (Veil.Crypto.OpenPgp on BouncyCastle 2.7), OpenPGP.js 6.3 in one node process (keys parsed once),
//   gpg 2.2 started once per message (as a mail server that shells out to gpg would),
// all with Ed25519 signing and Curve25519 encryption keys made by Veil, and AES-256 (what Veil writes; gpg and
// OpenPGP.js pick AES-256 from the key's preferences). Then BouncyCastle's AES-256-CFB and SHA-1 (the MDC) next to
// .NET's, to show where Veil's time goes. Usage: dotnet run -c Release -- <openpgpjs peer dir>
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Org.BouncyCastle.Bcpg;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Digests;
using Org.BouncyCastle.Security;
using Veil.Crypto.OpenPgp;

if (args is ["primitives"])
{
    Primitives();
    return;
}

var peer = args.Length > 0 ? args[0] : "tests/peers/openpgpjs";
var now = DateTimeOffset.UtcNow;
var dir = Directory.CreateTempSubdirectory("veil-pgpbench-").FullName;
var gpgHome = Path.Combine(dir, "gnupg");
Directory.CreateDirectory(gpgHome);
try
{
    var recipient = OpenPgpKeys.Generate("Bob <bob@bench.test>", now);
    var signer = OpenPgpKeys.Generate("Alice <alice@bench.test>", now);
    var bob = OpenPgpSecretKey.Load(recipient.SecretKey, now)!;
    var alice = OpenPgpSecretKey.Load(signer.SecretKey, now)!;
    File.WriteAllText(Path.Combine(dir, "bob.pub"), recipient.PublicKey.ToArmored());
    File.WriteAllText(Path.Combine(dir, "bob.sec"), Armor(recipient.SecretKey, secret: true));
    File.WriteAllText(Path.Combine(dir, "alice.sec"), Armor(signer.SecretKey, secret: true));
    Gpg(gpgHome, recipient.SecretKey, "--import");
    Gpg(gpgHome, signer.SecretKey, "--import");

    Console.WriteLine("| Size | Implementation | Encrypt+sign (median) | MB/s | Decrypt+verify (median) | MB/s | Runs |");
    Console.WriteLine("|---|---|---:|---:|---:|---:|---:|");
    foreach (var (size, runs) in new[] { (100 * 1024, 31), (10 * 1024 * 1024, 7) })
    {
        var data = new byte[size];
        for (var i = 0; i < size; i++)
        {
            data[i] = (byte)(i * 31);
        }

        // Veil (one warm-up round first: JIT).
        var encryptMs = new List<double>();
        var decryptMs = new List<double>();
        byte[] message = [];
        for (var i = 0; i <= runs; i++)
        {
            var sw = Stopwatch.StartNew();
            using (var output = new MemoryStream(size + 4096))
            {
                OpenPgpMessage.Encrypt(new MemoryStream(data), output, [bob.PublicKey], new OpenPgpEncryptOptions(now, alice));
                message = output.ToArray();
            }

            var e = sw.Elapsed.TotalMilliseconds;
            sw.Restart();
            using var plain = new MemoryStream(size);
            var result = OpenPgpMessage.Decrypt(new MemoryStream(message), plain, bob, [alice.PublicKey]);
            var d = sw.Elapsed.TotalMilliseconds;
            if (!result.IsOk || result.Signature != OpenPgpSignatureStatus.Valid || plain.Length != size)
            {
                throw new InvalidOperationException("Veil round trip failed");
            }

            if (i > 0)
            {
                encryptMs.Add(e);
                decryptMs.Add(d);
            }
        }

        Row(size, "Veil (BouncyCastle 2.7)", encryptMs, decryptMs, runs);

        // OpenPGP.js: one node process, keys parsed once, its own warm-up round excluded.
        var input = Path.Combine(dir, "plain.bin");
        File.WriteAllBytes(input, data);
        var json = Run("node", null, Path.Combine(peer, "peer.mjs"), "bench", Path.Combine(dir, "bob.pub"), Path.Combine(dir, "alice.sec"), Path.Combine(dir, "bob.sec"),
            size.ToString(CultureInfo.InvariantCulture), (runs + 1).ToString(CultureInfo.InvariantCulture));
        using (var doc = JsonDocument.Parse(json))
        {
            var enc = doc.RootElement.GetProperty("encryptMs").EnumerateArray().Skip(1).Select(x => x.GetDouble()).ToList();
            var dec = doc.RootElement.GetProperty("decryptMs").EnumerateArray().Skip(1).Select(x => x.GetDouble()).ToList();
            Row(size, "OpenPGP.js 6.3 (node 20, one process)", enc, dec, runs);
        }

        // gpg: one process per message, as a server shelling out would run it.
        var gpgEnc = new List<double>();
        var gpgDec = new List<double>();
        var encrypted = Path.Combine(dir, "gpg.pgp");
        for (var i = 0; i <= runs; i++)
        {
            File.Delete(encrypted);
            var sw = Stopwatch.StartNew();
            Gpg(gpgHome, null, "--local-user", signer.PublicKey.Fingerprint, "--recipient", recipient.PublicKey.Fingerprint, "--cipher-algo", "AES256",
                "--compress-algo", "none", "--output", encrypted, "--sign", "--encrypt", input);
            var e = sw.Elapsed.TotalMilliseconds;
            sw.Restart();
            Gpg(gpgHome, null, "--output", Path.Combine(dir, "gpg.out"), "--yes", "--decrypt", encrypted);
            var d = sw.Elapsed.TotalMilliseconds;
            if (i > 0)
            {
                gpgEnc.Add(e);
                gpgDec.Add(d);
            }
        }

        Row(size, "gpg 2.2 (one process per message)", gpgEnc, gpgDec, runs);
    }

    Console.WriteLine();
    Console.WriteLine("| Primitive, 10 MiB | BouncyCastle 2.7 | .NET 10 | ratio |");
    Console.WriteLine("|---|---:|---:|---:|");
    Primitives();
}
finally
{
    Run("gpgconf", null, "--homedir", gpgHome, "--kill", "all");
    Directory.Delete(dir, recursive: true);
}

static void Row(int size, string name, List<double> encrypt, List<double> decrypt, int runs)
{
    var e = Median(encrypt);
    var d = Median(decrypt);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"| {(size >= 1024 * 1024 ? size / 1024 / 1024 + " MiB" : size / 1024 + " KiB")} | {name} | {e:F2} ms | {size / e / 1000:F1} | {d:F2} ms | {size / d / 1000:F1} | {runs} |"));
}

static double Median(List<double> values)
{
    var sorted = values.Order().ToList();
    return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
}

static string Armor(byte[] key, bool secret)
{
    using var buffer = new MemoryStream();
    using (var armor = new ArmoredOutputStream(buffer, addVersionHeader: false))
    {
        _ = secret;
        armor.Write(key);
    }

    return Encoding.ASCII.GetString(buffer.ToArray());
}

static void Gpg(string home, byte[]? stdin, params string[] args) =>
    Run("gpg", stdin, ["--homedir", home, "--batch", "--quiet", "--pinentry-mode", "loopback", "--passphrase", "", "--trust-model", "always", .. args]);

static string Run(string program, byte[]? stdin, params string[] args)
{
    var info = new ProcessStartInfo(program) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
    foreach (var a in args)
    {
        info.ArgumentList.Add(a);
    }

    using var process = Process.Start(info)!;
    var stdout = process.StandardOutput.ReadToEndAsync();
    var stderr = process.StandardError.ReadToEndAsync();
    if (stdin is not null)
    {
        process.StandardInput.BaseStream.Write(stdin);
    }

    process.StandardInput.Close();
    process.WaitForExit();
    if (process.ExitCode != 0)
    {
        throw new InvalidOperationException($"{program} {string.Join(' ', args)}: {stderr.Result}");
    }

    return stdout.Result;
}

static void Primitives()
{
    const int Size = 10 * 1024 * 1024;
    var data = new byte[Size];
    var output = new byte[Size];
    var key = RandomNumberGenerator.GetBytes(32);
    var iv = new byte[16];

    var bcAes = CipherUtilities.GetCipher("AES/CFB/NoPadding");
    bcAes.Init(true, new Org.BouncyCastle.Crypto.Parameters.ParametersWithIV(new Org.BouncyCastle.Crypto.Parameters.KeyParameter(key), iv));
    var bc = Time(() => bcAes.DoFinal(data, 0, Size, output, 0));
    using var aes = Aes.Create();
    aes.Key = key;
    var net = Time(() => aes.EncryptCfb(data, iv, output, PaddingMode.None, 128));
    Print("AES-256-CFB128 encrypt", bc, net, Size);

    var sha1 = new Sha1Digest();
    var digest = new byte[20];
    bc = Time(() =>
    {
        sha1.BlockUpdate(data, 0, Size);
        sha1.DoFinal(digest, 0);
    });
    net = Time(() => SHA1.HashData(data, digest));
    Print("SHA-1 (the MDC)", bc, net, Size);

    var sha512 = new Sha512Digest();
    var digest512 = new byte[64];
    bc = Time(() =>
    {
        sha512.BlockUpdate(data, 0, Size);
        sha512.DoFinal(digest512, 0);
    });
    net = Time(() => SHA512.HashData(data, digest512));
    Print("SHA-512 (the signature hash)", bc, net, Size);

    var sha256 = new Sha256Digest();
    var digest256 = new byte[32];
    bc = Time(() =>
    {
        sha256.BlockUpdate(data, 0, Size);
        sha256.DoFinal(digest256, 0);
    });
    net = Time(() => SHA256.HashData(data, digest256));
    Print("SHA-256 (the signature hash, alternative)", bc, net, Size);
}

static double Time(Action action)
{
    action();
    var times = new List<double>();
    for (var i = 0; i < 7; i++)
    {
        var sw = Stopwatch.StartNew();
        action();
        times.Add(sw.Elapsed.TotalMilliseconds);
    }

    return Median(times);
}

static void Print(string name, double bc, double net, int size) =>
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {name} | {size / bc / 1000:F0} MB/s | {size / net / 1000:F0} MB/s | {net / bc:F2}× |"));
