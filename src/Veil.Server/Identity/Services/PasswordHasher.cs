// Argon2id hashing of client auth tokens with bounded concurrency. Each hash holds 19 MiB for
// ~50 ms of one core; a flood of sign-ins must neither exhaust memory nor build an unbounded queue.
// At most MaxConcurrent hashes run; at most MaxQueued requests wait (each at most MaxWait);
// everything beyond is refused at once with 503 server-busy, so every attempt gets a quick answer.
using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using Veil.Crypto.Client;
using Veil.Crypto.Primitives;
using Veil.Server.Platform.Results;

namespace Veil.Server.Identity.Services;

internal sealed class PasswordHasher : IDisposable
{
    private readonly SemaphoreSlim _slots;
    private readonly int _capacity;
    private readonly TimeSpan _maxWait;
    private int _admitted;

    // Verified when the account does not exist, so an unknown address costs the same as a wrong password.
    private readonly string _dummyHash;

    public PasswordHasher(IOptions<IdentityOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var hashing = options.Value.Hashing;
        _slots = new SemaphoreSlim(hashing.MaxConcurrent, hashing.MaxConcurrent);
        _capacity = hashing.MaxConcurrent + hashing.MaxQueued;
        _maxWait = hashing.MaxWait;
        _dummyHash = Argon2PasswordHash.Hash(CryptoRandom.Bytes(32), ClientKeyDerivation.ServerVerifierParameters);
    }

    /// <summary>Requests currently hashing or waiting (for metrics and tests).</summary>
    public int InFlight => Volatile.Read(ref _admitted);

    public Task<Result<string>> HashAsync(byte[] authToken, CancellationToken cancellationToken) =>
        RunAsync(() => Argon2PasswordHash.Hash(authToken, ClientKeyDerivation.ServerVerifierParameters), cancellationToken);

    /// <summary>Whether <paramref name="authToken"/> matches <paramref name="phc"/>; a null hash verifies against a dummy and fails.</summary>
    public async Task<Result<bool>> VerifyAsync(string? phc, byte[] authToken, CancellationToken cancellationToken)
    {
        var result = await RunAsync(() => Argon2PasswordHash.Verify(phc ?? _dummyHash, authToken) && phc is not null, cancellationToken);
        return result;
    }

    private async Task<Result<T>> RunAsync<T>(Func<T> work, CancellationToken cancellationToken)
    {
        if (Interlocked.Increment(ref _admitted) > _capacity)
        {
            Interlocked.Decrement(ref _admitted);
            return new ServerBusyError();
        }

        try
        {
            if (!await _slots.WaitAsync(_maxWait, cancellationToken))
            {
                return new ServerBusyError();
            }

            try
            {
                // Argon2 is CPU-bound and synchronous; it runs on this thread-pool thread while the
                // semaphore bounds how many such threads (and how much memory) are in use.
                return work();
            }
            finally
            {
                _slots.Release();
            }
        }
        finally
        {
            Interlocked.Decrement(ref _admitted);
        }
    }

    public void Dispose() => _slots.Dispose();
}

/// <summary>Decoding the 32-byte auth token clients send.</summary>
internal static class AuthTokens
{
    public static byte[]? Decode(string? token)
    {
        if (token is null || token.Length != 43)
        {
            return null;
        }

        var bytes = CryptoRandom.FromBase64Url(token);
        return bytes is { Length: ClientKeyDerivation.KeyLength } ? bytes : null;
    }

    public static void Wipe(byte[]? token)
    {
        if (token is not null)
        {
            CryptographicOperations.ZeroMemory(token);
        }
    }
}
