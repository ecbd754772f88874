// CryptoRuntime: a start-up check that Veil.Crypto's native libraries load.
//
// The bindings load libsodium and libargon2 lazily, on first use. A server should not discover a
// missing library on the first sign-in of the day, so hosts call Check() before they serve and stop
// with the one-line message it returns.

namespace Veil.Crypto.Native;

/// <summary>Start-up checks for the native libraries Veil.Crypto needs.</summary>
public static class CryptoRuntime
{
    /// <summary>
    /// Loads libsodium (and initialises it) and libargon2. Returns one line per library that cannot
    /// be loaded, naming the package to install; an empty list means both are ready.
    /// </summary>
    public static IReadOnlyList<string> Check()
    {
        var problems = new List<string>(2);
        foreach (var library in (string[])[NativeLibraries.Sodium, NativeLibraries.Argon2])
        {
            if (!NativeLibraries.TryLoad(library, out _))
            {
                problems.Add(NativeLibraries.MissingMessage(library));
            }
        }

        if (problems.Count == 0)
        {
            Libsodium.EnsureInitialized();
        }

        return problems;
    }
}
