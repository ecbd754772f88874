// dkimpy (Debian python3-dkim), an independent DKIM implementation, as the outside signer: tests sign with it and
// check that Veil's verifier (and the mailbox's recorded verdicts) agree.
using System.Diagnostics;
using System.Text;

namespace Veil.Server.Tests.Kit;

public static class Dkimpy
{
    /// <summary>
    /// Signs <paramref name="message"/> (CRLF) as d=<paramref name="domain"/>, s=sel with a fresh 2048-bit RSA key;
    /// returns the signed message and the key record to publish at <c>sel._domainkey.&lt;domain&gt;</c>.
    /// </summary>
    public static async Task<(byte[] Signed, string Record)> SignAsync(string message, string domain)
    {
        const string Script = """
            import sys, base64, dkim
            from cryptography.hazmat.primitives.asymmetric import rsa
            from cryptography.hazmat.primitives import serialization
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption())
            pub = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
            msg = sys.stdin.buffer.read()
            sig = dkim.sign(msg, b'sel', sys.argv[1].encode(), pem, include_headers=[b'from', b'to', b'subject', b'message-id'])
            sys.stdout.buffer.write(b'v=DKIM1; k=rsa; p=' + base64.b64encode(pub) + b'\n' + sig + msg)
            """;
        var info = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add(Script);
        info.ArgumentList.Add(domain);
        using var process = Process.Start(info)!;
        await process.StandardInput.BaseStream.WriteAsync(Encoding.ASCII.GetBytes(message));
        process.StandardInput.Close();
        using var output = new MemoryStream();
        var copy = process.StandardOutput.BaseStream.CopyToAsync(output);
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        await copy;
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException("dkimpy failed (python3-dkim installed?): " + await errors);
        }

        var bytes = output.ToArray();
        var newline = Array.IndexOf(bytes, (byte)'\n');
        return (bytes[(newline + 1)..], Encoding.ASCII.GetString(bytes, 0, newline));
    }
}
