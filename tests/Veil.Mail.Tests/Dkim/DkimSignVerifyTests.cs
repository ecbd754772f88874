using System.Text;
using Veil.Mail.Dkim;

namespace Veil.Mail.Tests.Dkim;

public sealed class DkimSignVerifyTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 22, 12, 0, 0, TimeSpan.Zero);

    private static readonly byte[] Message = TestFiles.Crlf("""
        From: Alice <alice@example.org>
        To: Bob <bob@example.net>
        Subject: Quarterly numbers
        Date: Sun, 22 Nov 2026 12:00:00 +0000
        Message-ID: <m1@example.org>

        The numbers are fine.
        """);

    public static TheoryData<string> Algorithms => ["rsa", "ed25519"];

    private static DkimSigningKey NewKey(string algorithm)
        => algorithm == "rsa" ? DkimSigningKey.GenerateRsa2048() : DkimSigningKey.GenerateEd25519();

    private static (byte[] Signed, DkimVerifier Verifier) SignAndVerifier(DkimSigningKey key, DkimSignerOptions? options = null, TimeProvider? verifyTime = null)
    {
        var signer = new DkimSigner(options ?? new DkimSignerOptions { Domain = "example.org", Selector = "s1" }, key, new FixedTimeProvider(Now));
        var records = new Dictionary<string, string> { ["s1._domainkey.example.org"] = DkimDnsRecord.For(key) };
        return (signer.Sign(Message), new DkimVerifier(new StaticKeyResolver(records), verifyTime ?? new FixedTimeProvider(Now)));
    }

    private static async Task<DkimVerificationResult> VerifySingleAsync(DkimVerifier verifier, byte[] message)
        => Assert.Single(await verifier.VerifyAsync(message, CancellationToken.None));

    private static byte[] Replace(byte[] message, string from, string to)
        => Encoding.ASCII.GetBytes(Encoding.ASCII.GetString(message).Replace(from, to, StringComparison.Ordinal));

    [Theory]
    [MemberData(nameof(Algorithms))]
    public async Task Verify_UntouchedSignedMessage_Passes(string algorithm)
    {
        using var key = NewKey(algorithm);
        var (signed, verifier) = SignAndVerifier(key);

        var result = await VerifySingleAsync(verifier, signed);

        Assert.Equal((DkimVerificationStatus.Pass, DkimFailureReason.None, "example.org", "s1"), (result.Status, result.Reason, result.Domain, result.Selector));
    }

    [Theory]
    [MemberData(nameof(Algorithms))]
    public async Task Verify_RefoldedAndRespacedHeaders_StillPass(string algorithm)
    {
        using var key = NewKey(algorithm);
        var (signed, verifier) = SignAndVerifier(key);

        var result = await VerifySingleAsync(verifier, Replace(signed, "Subject: Quarterly numbers", "Subject:  Quarterly\r\n\t numbers "));

        Assert.Equal(DkimVerificationStatus.Pass, result.Status);
    }

    [Theory]
    [MemberData(nameof(Algorithms))]
    public async Task Verify_TamperedSubject_FailsWithSignatureMismatch(string algorithm)
    {
        using var key = NewKey(algorithm);
        var (signed, verifier) = SignAndVerifier(key);

        var result = await VerifySingleAsync(verifier, Replace(signed, "Quarterly numbers", "Quarterly numberz"));

        Assert.Equal((DkimVerificationStatus.Fail, DkimFailureReason.SignatureMismatch), (result.Status, result.Reason));
    }

    [Theory]
    [MemberData(nameof(Algorithms))]
    public async Task Verify_TamperedBody_FailsWithBodyHashMismatch(string algorithm)
    {
        using var key = NewKey(algorithm);
        var (signed, verifier) = SignAndVerifier(key);

        var result = await VerifySingleAsync(verifier, Replace(signed, "are fine", "are bad"));

        Assert.Equal((DkimVerificationStatus.Fail, DkimFailureReason.BodyHashMismatch), (result.Status, result.Reason));
    }

    [Fact]
    public async Task Verify_SecondFromAddedAfterSigning_FailsBecauseFromIsOversigned()
    {
        using var key = DkimSigningKey.GenerateEd25519();
        var (signed, verifier) = SignAndVerifier(key);

        var result = await VerifySingleAsync(verifier, Replace(signed, "To: Bob", "From: Mallory <m@evil.example>\r\nTo: Bob"));

        Assert.Equal(DkimVerificationStatus.Fail, result.Status);
    }

    [Fact]
    public void Sign_DefaultOptions_OversignsFromAndFoldsLines()
    {
        using var key = DkimSigningKey.GenerateRsa2048();
        var (signed, _) = SignAndVerifier(key);
        var field = Encoding.ASCII.GetString(signed)[..Encoding.ASCII.GetString(signed).IndexOf("\r\nFrom:", StringComparison.Ordinal)];

        Assert.Contains("h=from:from:to:subject:date:message-id;", field.Replace("\r\n\t", "", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.Contains($"t={Now.ToUnixTimeSeconds()};", field, StringComparison.Ordinal);
        Assert.All(field.Split("\r\n"), line => Assert.True(line.Length <= 78, line));
    }

    [Fact]
    public async Task Verify_ExpiredSignature_Fails()
    {
        using var key = DkimSigningKey.GenerateEd25519();
        var options = new DkimSignerOptions { Domain = "example.org", Selector = "s1", Lifetime = TimeSpan.FromDays(7) };
        var (signed, verifier) = SignAndVerifier(key, options, new FixedTimeProvider(Now.AddDays(8)));

        var result = await VerifySingleAsync(verifier, signed);

        Assert.Equal((DkimVerificationStatus.Fail, DkimFailureReason.SignatureExpired), (result.Status, result.Reason));
    }

    [Fact]
    public async Task Verify_NoKeyRecord_IsPermError()
    {
        using var key = DkimSigningKey.GenerateEd25519();
        var (signed, _) = SignAndVerifier(key);
        var verifier = new DkimVerifier(new StaticKeyResolver(new Dictionary<string, string>()), TimeProvider.System);

        var result = await VerifySingleAsync(verifier, signed);

        Assert.Equal((DkimVerificationStatus.PermError, DkimFailureReason.KeyNotFound), (result.Status, result.Reason));
    }

    [Fact]
    public async Task Verify_KeyLookupTimesOut_IsTempError()
    {
        using var key = DkimSigningKey.GenerateEd25519();
        var (signed, _) = SignAndVerifier(key);
        var verifier = new DkimVerifier(new StaticKeyResolver(new Dictionary<string, string>()) { TemporaryFailure = true }, TimeProvider.System);

        var result = await VerifySingleAsync(verifier, signed);

        Assert.Equal((DkimVerificationStatus.TempError, DkimFailureReason.KeyLookupFailed), (result.Status, result.Reason));
    }

    [Theory]
    [InlineData("v=DKIM1; k=ed25519; p=", DkimFailureReason.KeyRevoked)]
    [InlineData("v=DKIM1; k=rsa; p=AAAA", DkimFailureReason.KeyUnsuitable)]
    [InlineData("k=ed25519; v=DKIM1; p=AAAA", DkimFailureReason.MalformedKey)]
    [InlineData("v=DKIM1; k=ed25519; p=%%%", DkimFailureReason.MalformedKey)]
    [InlineData("v=DKIM1; k=ed25519; h=sha1; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=", DkimFailureReason.KeyUnsuitable)]
    public async Task Verify_BadKeyRecord_IsPermError(string record, DkimFailureReason reason)
    {
        using var key = DkimSigningKey.GenerateEd25519();
        var (signed, _) = SignAndVerifier(key);
        var verifier = new DkimVerifier(new StaticKeyResolver(new Dictionary<string, string> { ["s1._domainkey.example.org"] = record }), TimeProvider.System);

        var result = await VerifySingleAsync(verifier, signed);

        Assert.Equal((DkimVerificationStatus.PermError, reason), (result.Status, result.Reason));
    }

    [Theory]
    [InlineData("v=2; a=rsa-sha256; d=example.org; s=s1; h=from; bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; b=AAAA", DkimFailureReason.UnsupportedVersion)]
    [InlineData("v=1; a=rsa-sha1; d=example.org; s=s1; h=from; bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; b=AAAA", DkimFailureReason.UnsupportedAlgorithm)]
    [InlineData("v=1; a=rsa-sha256; d=example.org; s=s1; h=to; bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; b=AAAA", DkimFailureReason.FromNotSigned)]
    [InlineData("v=1; a=rsa-sha256; d=example.org; s=s1; h=from; i=@evil.example; bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; b=AAAA", DkimFailureReason.IdentityMismatch)]
    [InlineData("v=1; v=1; a=rsa-sha256; d=example.org; s=s1; h=from; bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; b=AAAA", DkimFailureReason.MalformedSignature)]
    [InlineData("v=1; a=rsa-sha256; d=example.org; s=s1; h=from; bh=AAAA; b=AAAA", DkimFailureReason.MalformedSignature)]
    [InlineData("v=1; a=rsa-sha256; c=relaxed/stressed; d=example.org; s=s1; h=from; bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; b=AAAA", DkimFailureReason.MalformedSignature)]
    [InlineData("v=1; a=rsa-sha256; d=example.org; s=s1; h=from; l=99999999999999999999; bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; b=AAAA", DkimFailureReason.MalformedSignature)]
    [InlineData("garbage", DkimFailureReason.MalformedSignature)]
    public async Task Verify_BadSignatureField_IsPermError(string value, DkimFailureReason reason)
    {
        var message = TestFiles.Crlf($"DKIM-Signature: {value}\nFrom: a@example.org\n\nbody\n");
        var verifier = new DkimVerifier(new StaticKeyResolver(new Dictionary<string, string>()), TimeProvider.System);

        var result = await VerifySingleAsync(verifier, message);

        Assert.Equal((DkimVerificationStatus.PermError, reason), (result.Status, result.Reason));
    }

    [Fact]
    public async Task Verify_RandomAndMutatedInput_NeverThrows()
    {
        using var key = DkimSigningKey.GenerateEd25519();
        var (signed, verifier) = SignAndVerifier(key);
        var random = new Random(20261122);
        for (int i = 0; i < 400; i++)
        {
            var mutated = (byte[])signed.Clone();
            int flips = random.Next(1, 8);
            for (int f = 0; f < flips; f++)
            {
                mutated[random.Next(mutated.Length)] = (byte)random.Next(256);
            }

            var truncated = mutated[..random.Next(mutated.Length + 1)];
            var results = await verifier.VerifyAsync(truncated, CancellationToken.None);
            Assert.All(results, r => Assert.True(r.Status != DkimVerificationStatus.Pass || truncated.AsSpan().SequenceEqual(signed)));
        }
    }

    [Fact]
    public async Task Verify_ManySignatureFields_EvaluatesAtMostTheLimit()
    {
        var field = "DKIM-Signature: v=1; a=ed25519-sha256; d=example.org; s=s1; h=from; bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; b=AAAA\r\n";
        var message = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat(field, 50)) + "From: a@example.org\r\n\r\nx\r\n");
        var verifier = new DkimVerifier(new StaticKeyResolver(new Dictionary<string, string>()), TimeProvider.System);

        var results = await verifier.VerifyAsync(message, CancellationToken.None);

        Assert.Equal(DkimVerifier.MaxSignatures, results.Count);
    }

    [Fact]
    public void DnsRecord_ForRsaKey_PublishesSubjectPublicKeyInfo()
    {
        using var key = DkimSigningKey.GenerateRsa2048();

        var record = DkimDnsRecord.For(key);

        Assert.StartsWith("v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA", record, StringComparison.Ordinal);
        Assert.Equal("s1._domainkey.example.org", DkimDnsRecord.Name("s1", "example.org"));
    }

    [Fact]
    public async Task ImportRsaPkcs8_ExportedKey_SignsVerifiably()
    {
        using var original = DkimSigningKey.GenerateRsa2048();
        var exported = original.ExportPrivateKey();
        using var imported = DkimSigningKey.ImportRsaPkcs8(exported);
        Array.Clear(exported);
        var (signed, _) = SignAndVerifier(imported);
        var verifier = new DkimVerifier(new StaticKeyResolver(new Dictionary<string, string> { ["s1._domainkey.example.org"] = DkimDnsRecord.For(original) }), new FixedTimeProvider(Now));

        Assert.Equal(DkimVerificationStatus.Pass, (await VerifySingleAsync(verifier, signed)).Status);
    }

    [Fact]
    public void ImportRsaPem_1024BitKey_IsRefusedForSigning()
    {
        var pem = File.ReadAllText(TestFiles.Vectors("dkim", "dkimpy_data", "test.private"));

        Assert.Throws<ArgumentException>(() => DkimSigningKey.ImportRsaPem(pem));
    }

    [Fact]
    public void ToString_NeverShowsKeyMaterial()
    {
        using var key = DkimSigningKey.GenerateEd25519();

        Assert.Equal("DkimSigningKey(ed25519-sha256)", key.ToString());
    }
}
