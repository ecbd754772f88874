// DKIM verification (RFC 6376 §6, RFC 8463). Each DKIM-Signature field (at most MaxSignatures,
// top to bottom) gets its own typed result; hostile input yields permerror or fail, never an
// exception. Order per signature: tag checks, expiry, key lookup and key checks, body hash, then
// the signature. Limits: t= in the future is not rejected (RFC 6376 leaves it to the verifier);
// l= is honoured when verifying but the signer never sets it.
using System.Buffers;
using System.Security.Cryptography;

namespace Veil.Mail.Dkim;

/// <summary>Verifies the DKIM signatures of a message.</summary>
/// <param name="resolver">Fetches key records.</param>
/// <param name="time">The clock for x= expiry.</param>
public sealed class DkimVerifier(IDkimKeyResolver resolver, TimeProvider time)
{
    /// <summary>The most signatures evaluated per message; further ones are ignored.</summary>
    public const int MaxSignatures = 8;

    /// <summary>
    /// Verifies every DKIM-Signature field of <paramref name="message"/> (raw bytes, CRLF line
    /// endings). An empty list means the message carries no signature.
    /// </summary>
    /// <param name="message">The raw message.</param>
    /// <param name="cancellationToken">Cancels key lookups.</param>
    public async Task<IReadOnlyList<DkimVerificationResult>> VerifyAsync(ReadOnlyMemory<byte> message, CancellationToken cancellationToken)
    {
        if (!DkimMessage.TryParse(message, out var parsed))
        {
            return [new DkimVerificationResult(DkimVerificationStatus.PermError, DkimFailureReason.MalformedSignature, null, null, null)];
        }

        var results = new List<DkimVerificationResult>();
        foreach (var field in parsed.Fields)
        {
            if (!field.Name.Equals("DKIM-Signature", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            if (results.Count == MaxSignatures)
            {
                break;
            }

            results.Add(await VerifyOneAsync(parsed, field, cancellationToken).ConfigureAwait(false));
        }

        return results;
    }

    private async Task<DkimVerificationResult> VerifyOneAsync(DkimMessage message, DkimHeaderField field, CancellationToken cancellationToken)
    {
        var reason = DkimSignatureField.TryParse(field.ValueBytes, out var signature, out var partial);
        DkimVerificationResult Result(DkimVerificationStatus status, DkimFailureReason why)
            => new(status, why, partial.Domain, partial.Selector, partial.Algorithm);

        if (reason != DkimFailureReason.None || signature is null)
        {
            return Result(DkimVerificationStatus.PermError, reason);
        }

        if (signature.Expiration is { } expiration && expiration < time.GetUtcNow().ToUnixTimeSeconds())
        {
            return Result(DkimVerificationStatus.Fail, DkimFailureReason.SignatureExpired);
        }

        var lookup = await resolver.ResolveAsync(signature.Selector, signature.Domain, cancellationToken).ConfigureAwait(false);
        switch (lookup.Status)
        {
            case DkimKeyLookupStatus.TemporaryFailure:
                return Result(DkimVerificationStatus.TempError, DkimFailureReason.KeyLookupFailed);
            case DkimKeyLookupStatus.NotFound:
            case DkimKeyLookupStatus.Found when lookup.Record is null:
                return Result(DkimVerificationStatus.PermError, DkimFailureReason.KeyNotFound);
        }

        reason = DkimKeyRecord.TryParse(lookup.Record!, signature.Algorithm, out var key);
        if (reason != DkimFailureReason.None || key is null)
        {
            return Result(DkimVerificationStatus.PermError, reason);
        }

        if (key.StrictIdentity && signature.Identity is { } identity
            && !identity[(identity.LastIndexOf('@') + 1)..].Equals(signature.Domain, StringComparison.OrdinalIgnoreCase))
        {
            return Result(DkimVerificationStatus.PermError, DkimFailureReason.IdentityMismatch);
        }

        var canonicalBody = new ArrayBufferWriter<byte>(message.Body.Length + 2);
        DkimCanonicalizer.WriteBody(signature.BodyCanonicalization, message.Body.Span, canonicalBody);
        var hashed = canonicalBody.WrittenSpan;
        if (signature.BodyLength is { } length)
        {
            if (length > hashed.Length)
            {
                return Result(DkimVerificationStatus.PermError, DkimFailureReason.BodyLengthExceeded);
            }

            hashed = hashed[..(int)length];
        }

        Span<byte> bodyHash = stackalloc byte[32];
        SHA256.HashData(hashed, bodyHash);
        if (!CryptographicOperations.FixedTimeEquals(bodyHash, signature.BodyHash))
        {
            return Result(DkimVerificationStatus.Fail, DkimFailureReason.BodyHashMismatch);
        }

        var withEmptyB = DkimSignatureField.WithEmptyB(field.Raw.Span);
        var hashInput = DkimSignatureField.BuildHeaderHashInput(message.Fields, signature.SignedHeaders, signature.HeaderCanonicalization, withEmptyB);
        reason = key.Verify(signature.Algorithm, hashInput, signature.Signature);
        return reason switch
        {
            DkimFailureReason.None => Result(DkimVerificationStatus.Pass, DkimFailureReason.None),
            DkimFailureReason.SignatureMismatch => Result(DkimVerificationStatus.Fail, reason),
            _ => Result(DkimVerificationStatus.PermError, reason),
        };
    }
}
