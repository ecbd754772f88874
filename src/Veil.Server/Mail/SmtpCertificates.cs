using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;

namespace Veil.Server.Mail;

/// <summary>
/// The certificate offered after STARTTLS: the configured PKCS#12 file, or a self-signed one that the
/// first run generates into <c>&lt;data&gt;/smtp-cert.pfx</c> (mode 0600) and later runs reuse. Sending
/// MTAs use opportunistic TLS and rarely verify certificates, so self-signed still encrypts the hop;
/// the warning tells the operator it authenticates nothing.
/// </summary>
internal static class SmtpCertificates
{
    public const string GeneratedFileName = "smtp-cert.pfx";

    public static X509Certificate2 LoadOrCreate(SmtpHostOptions options, string dataDirectory, TimeProvider time, ILogger logger)
    {
        if (options.CertificatePath is { Length: > 0 } path)
        {
            var configured = X509CertificateLoader.LoadPkcs12FromFile(path, options.CertificatePassword);
            if (!configured.HasPrivateKey)
            {
                configured.Dispose();
                throw new InvalidOperationException("Veil:Mail:Smtp:CertificatePath: the certificate has no private key.");
            }

            return configured;
        }

        var generated = Path.Combine(dataDirectory, GeneratedFileName);
        if (File.Exists(generated))
        {
            MailLog.SelfSignedCertificate(logger, "reused", generated);
            return X509CertificateLoader.LoadPkcs12FromFile(generated, password: null);
        }

        byte[] pfx = CreateSelfSigned(options.ServerName, time.GetUtcNow());
        try
        {
            var create = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
            {
                create.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite; // the private key: owner only
            }

            var stream = new FileStream(generated, create);
            using (stream)
            {
                stream.Write(pfx);
                stream.Flush(flushToDisk: true);
            }

            MailLog.SelfSignedCertificate(logger, "generated", generated);
            return X509CertificateLoader.LoadPkcs12(pfx, password: null);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(pfx);
        }
    }

    private static byte[] CreateSelfSigned(string serverName, DateTimeOffset now)
    {
        using var key = RSA.Create(2048); // RSA rather than ECDSA: old sending MTAs still negotiate RSA only
        var request = new CertificateRequest(new X500DistinguishedName("CN=" + serverName), key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName(serverName);
        request.CertificateExtensions.Add(san.Build());
        using var certificate = request.CreateSelfSigned(now.AddDays(-1), now.AddYears(5));
        return certificate.Export(X509ContentType.Pkcs12);
    }
}
