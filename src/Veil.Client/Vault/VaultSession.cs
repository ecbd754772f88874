// VaultSession: the keys a vault client holds while it works (spec/vault.md §8, "Locking").
//
// The owner's session holds its own copy of the user key and every vault key it has unwrapped, each in SecretBytes
// (native memory, wiped when released). A recipient's session holds only the one vault key rebuilt from an escrow.
// Lock() releases every key at once; from then on each operation throws VaultLockedException, so code that keeps a
// locked session around cannot seal or open anything by mistake. All failures to open are "tampered": the session
// never returns part of a value that did not authenticate.
using System.Buffers.Text;
using System.Security.Cryptography;
using Veil.Crypto.Memory;
using Veil.Crypto.Vault;

namespace Veil.Client.Vault;

/// <summary>The user key and vault keys of one client session; <see cref="Lock"/> wipes them all.</summary>
public sealed class VaultSession : IDisposable
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, SecretBytes> _vaultKeys = new(StringComparer.Ordinal);
    private SecretBytes? _userKey;
    private bool _locked;

    private VaultSession(SecretBytes? userKey) => _userKey = userKey;

    /// <summary>True after <see cref="Lock"/>: every key is gone.</summary>
    public bool IsLocked
    {
        get
        {
            lock (_lock)
            {
                return _locked;
            }
        }
    }

    /// <summary>How many vault keys the session holds.</summary>
    public int VaultKeyCount
    {
        get
        {
            lock (_lock)
            {
                return _vaultKeys.Count;
            }
        }
    }

    /// <summary>An owner's session: keeps its own copy of the 32-byte user key (the caller keeps and disposes its own).</summary>
    /// <exception cref="ArgumentException">The user key is not 32 bytes.</exception>
    public static VaultSession ForOwner(SecretBytes userKey)
    {
        ArgumentNullException.ThrowIfNull(userKey);
        if (userKey.Length != VaultCipher.KeyLength)
        {
            throw new ArgumentException("The user key is 32 bytes.", nameof(userKey));
        }

        using var lease = userKey.Acquire();
        return new VaultSession(SecretBytes.Copy(lease.Span));
    }

    /// <summary>A session without keys, for calls that send and read no ciphertext (switch, recipients list, delete).</summary>
    public static VaultSession Empty() => new(userKey: null);

    /// <summary>
    /// A recipient's session: rebuilds the vault key from the escrow and the delivery key the server returned on claim.
    /// </summary>
    /// <exception cref="VaultException"><c>tampered</c>: the delivery key is malformed or does not open the escrow.</exception>
    public static VaultSession ForRecipient(string vaultId, string recipientId, string escrow, string deliveryKey)
    {
        if (!VaultIds.IsValid(vaultId) || !VaultIds.IsValid(recipientId))
        {
            throw VaultException.Tampered("the claim names an invalid vault or recipient id");
        }

        Span<byte> raw = stackalloc byte[VaultCipher.KeyLength];
        try
        {
            if (deliveryKey is null
                || deliveryKey.Length != Base64Url.GetEncodedLength(VaultCipher.KeyLength)
                || !Base64Url.TryDecodeFromChars(deliveryKey, raw, out int written)
                || written != VaultCipher.KeyLength
                || Base64Url.EncodeToString(raw) != deliveryKey)
            {
                throw VaultException.Tampered("the delivery key is not 32 bytes of base64url");
            }

            using SecretBytes delivery = SecretBytes.Copy(raw);
            SecretBytes vaultKey = VaultCipher.TryOpenEscrow(delivery, vaultId, recipientId, escrow)
                ?? throw VaultException.Tampered("the escrow does not open with the delivery key");
            var session = new VaultSession(userKey: null);
            session._vaultKeys[vaultId] = vaultKey;
            return session;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(raw);
        }
    }

    /// <summary>Makes a new vault key for <paramref name="vaultId"/>, keeps it, and returns it wrapped under the user key.</summary>
    /// <exception cref="VaultLockedException">The session is locked.</exception>
    /// <exception cref="InvalidOperationException">A recipient's session has no user key.</exception>
    public string CreateVaultKey(string vaultId)
    {
        lock (_lock)
        {
            SecretBytes userKey = UserKey();
            SecretBytes vaultKey = VaultCipher.NewKey();
            try
            {
                string wrapped = VaultCipher.WrapVaultKey(userKey, vaultId, vaultKey);
                Keep(vaultId, vaultKey);
                return wrapped;
            }
            catch
            {
                vaultKey.Dispose();
                throw;
            }
        }
    }

    /// <summary>Unwraps and keeps a vault's key (a no-op when it is already held).</summary>
    /// <exception cref="VaultException"><c>tampered</c>: the wrapped key does not open with this account's user key.</exception>
    /// <exception cref="VaultLockedException">The session is locked.</exception>
    public void AddVault(string vaultId, string wrappedKey)
    {
        lock (_lock)
        {
            SecretBytes userKey = UserKey();
            if (_vaultKeys.ContainsKey(vaultId))
            {
                return;
            }

            SecretBytes vaultKey = VaultCipher.TryUnwrapVaultKey(userKey, vaultId, wrappedKey)
                ?? throw VaultException.Tampered($"the key of vault {vaultId} does not open with this account's key");
            Keep(vaultId, vaultKey);
        }
    }

    /// <summary>True when the session holds the key of <paramref name="vaultId"/>.</summary>
    /// <exception cref="VaultLockedException">The session is locked.</exception>
    public bool HasVault(string vaultId)
    {
        lock (_lock)
        {
            ThrowIfLocked();
            return _vaultKeys.ContainsKey(vaultId);
        }
    }

    /// <summary>Seals a field of a vault (spec/vault.md §4). <paramref name="itemId"/> is empty for the vault's name.</summary>
    /// <exception cref="VaultLockedException">The session is locked.</exception>
    /// <exception cref="ArgumentException">A bad id or path, or a value over 64 KiB.</exception>
    public string Seal(string vaultId, string itemId, string path, string value)
    {
        lock (_lock)
        {
            return VaultCipher.SealField(VaultKey(vaultId), vaultId, itemId, path, value);
        }
    }

    /// <summary>Opens a field of a vault.</summary>
    /// <exception cref="VaultException"><c>tampered</c>: the value does not authenticate at this place.</exception>
    /// <exception cref="VaultLockedException">The session is locked.</exception>
    public string Open(string vaultId, string itemId, string path, string? ciphertext)
    {
        lock (_lock)
        {
            SecretBytes vaultKey = VaultKey(vaultId);
            if (!VaultIds.IsValid(itemId) && itemId.Length != 0)
            {
                throw VaultException.Tampered($"vault {vaultId} holds an item with an invalid id");
            }

            return VaultCipher.TryOpenField(vaultKey, vaultId, itemId, path, ciphertext, out string value)
                ? value
                : throw VaultException.Tampered(itemId.Length == 0
                    ? $"vault {vaultId}: its {path} was tampered with"
                    : $"vault {vaultId}, item {itemId}: {path} was tampered with");
        }
    }

    /// <summary>Makes a new file key; returns it (the caller disposes it) with its wrap under the vault key.</summary>
    /// <exception cref="VaultLockedException">The session is locked.</exception>
    public SecretBytes CreateFileKey(string vaultId, string itemId, string fileId, out string wrappedKey)
    {
        lock (_lock)
        {
            SecretBytes vaultKey = VaultKey(vaultId);
            SecretBytes fileKey = VaultCipher.NewKey();
            wrappedKey = VaultCipher.WrapFileKey(vaultKey, vaultId, itemId, fileId, fileKey);
            return fileKey;
        }
    }

    /// <summary>Opens a file's key (the caller disposes it).</summary>
    /// <exception cref="VaultException"><c>tampered</c>: the wrapped key does not authenticate.</exception>
    /// <exception cref="VaultLockedException">The session is locked.</exception>
    public SecretBytes OpenFileKey(string vaultId, string itemId, string fileId, string? wrappedKey)
    {
        lock (_lock)
        {
            SecretBytes vaultKey = VaultKey(vaultId);
            if (!VaultIds.IsValid(itemId) || !VaultIds.IsValid(fileId))
            {
                throw VaultException.Tampered($"vault {vaultId} holds a file with an invalid id");
            }

            return VaultCipher.TryUnwrapFileKey(vaultKey, vaultId, itemId, fileId, wrappedKey)
                ?? throw VaultException.Tampered($"vault {vaultId}, item {itemId}: the key of file {fileId} was tampered with");
        }
    }

    /// <summary>
    /// Makes a recipient's delivery key and the escrow of the vault key under it (spec/vault.md §6). The delivery key
    /// is returned once, base64url, to be sent to the server; the session does not keep it.
    /// </summary>
    /// <exception cref="VaultLockedException">The session is locked.</exception>
    public string CreateEscrow(string vaultId, string recipientId, out string deliveryKey)
    {
        lock (_lock)
        {
            SecretBytes vaultKey = VaultKey(vaultId);
            using SecretBytes delivery = VaultCipher.NewKey();
            string escrow = VaultCipher.CreateEscrow(delivery, vaultId, recipientId, vaultKey);
            using var lease = delivery.Acquire();
            deliveryKey = Base64Url.EncodeToString(lease.Span);
            return escrow;
        }
    }

    /// <summary>Wipes the user key and every vault key. Idempotent; every later operation throws <see cref="VaultLockedException"/>.</summary>
    public void Lock()
    {
        lock (_lock)
        {
            _locked = true;
            _userKey?.Dispose();
            _userKey = null;
            foreach (SecretBytes key in _vaultKeys.Values)
            {
                key.Dispose();
            }

            _vaultKeys.Clear();
        }
    }

    /// <summary>Same as <see cref="Lock"/>.</summary>
    public void Dispose() => Lock();

    /// <summary>Shows the state, never a key.</summary>
    public override string ToString() => IsLocked ? "VaultSession(locked)" : $"VaultSession({VaultKeyCount} vault keys)";

    /// <summary>The key handles held right now (tests check that Lock releases them).</summary>
    internal IReadOnlyList<SecretBytes> HeldKeys()
    {
        lock (_lock)
        {
            var keys = _vaultKeys.Values.ToList();
            if (_userKey is not null)
            {
                keys.Add(_userKey);
            }

            return keys;
        }
    }

    private void Keep(string vaultId, SecretBytes vaultKey)
    {
        if (_vaultKeys.Remove(vaultId, out SecretBytes? old))
        {
            old.Dispose();
        }

        _vaultKeys[vaultId] = vaultKey;
    }

    private SecretBytes UserKey()
    {
        ThrowIfLocked();
        return _userKey ?? throw new InvalidOperationException("A recipient's session holds no user key.");
    }

    private SecretBytes VaultKey(string vaultId)
    {
        ThrowIfLocked();
        return _vaultKeys.TryGetValue(vaultId, out SecretBytes? key)
            ? key
            : throw new InvalidOperationException($"The session holds no key for vault {vaultId}: open the vault first.");
    }

    private void ThrowIfLocked()
    {
        if (_locked)
        {
            throw new VaultLockedException();
        }
    }
}

/// <summary>The vault session was locked: its keys are wiped, so it can neither seal nor open.</summary>
public sealed class VaultLockedException() : InvalidOperationException("The vault session is locked: its keys were wiped. Unlock again to continue.");
