// NativeLibraries: how Veil.Crypto finds libsodium and libargon2 at run time.
//
// Debian ships libsodium as libsodium.so.23 (package libsodium23) and libargon2 as libargon2.so.1
// (package libargon2-1); the unversioned names exist only with the -dev packages, which production
// hosts do not install. The default probing of [DllImport("libsodium")] would look for
// "libsodium.so" and fail there, so this resolver tries the versioned soname first and then the
// other platforms' usual names. A library that cannot be loaded surfaces as one
// NativeLibraryMissingException whose one-line message names the package to install.
//
// References: System.Runtime.InteropServices.NativeLibrary.SetDllImportResolver;
// https://packages.debian.org/bookworm/libsodium23 ; https://packages.debian.org/bookworm/libargon2-1
using System.Collections.Concurrent;
using System.Reflection;
using System.Runtime.InteropServices;

namespace Veil.Crypto.Native;

/// <summary>Resolution of Veil.Crypto's native libraries; registers the import resolver once.</summary>
internal static class NativeLibraries
{
    /// <summary>The logical name used in <c>[LibraryImport]</c> for libsodium.</summary>
    internal const string Sodium = "libsodium";

    /// <summary>The logical name used in <c>[LibraryImport]</c> for the reference Argon2 library.</summary>
    internal const string Argon2 = "libargon2";

    /// <summary>File names tried for libsodium, in order.</summary>
    internal static readonly IReadOnlyList<string> SodiumCandidates =
        ["libsodium.so.23", "libsodium.so", "libsodium.dylib", "libsodium.23.dylib", "libsodium.dll"];

    /// <summary>File names tried for libargon2, in order.</summary>
    internal static readonly IReadOnlyList<string> Argon2Candidates =
        ["libargon2.so.1", "libargon2.so", "libargon2.1.dylib", "libargon2.dylib", "argon2.dll"];

    private static readonly Assembly s_assembly = typeof(NativeLibraries).Assembly;
    private static readonly ConcurrentDictionary<string, nint> s_handles = new(StringComparer.Ordinal);
    private static readonly Lock s_registerLock = new();
    private static bool s_registered;

    /// <summary>The candidate file names for a logical library name, or an empty list if it is not ours.</summary>
    internal static IReadOnlyList<string> CandidatesFor(string libraryName) => libraryName switch
    {
        Sodium => SodiumCandidates,
        Argon2 => Argon2Candidates,
        _ => [],
    };

    /// <summary>The one-line message for a missing library, naming the package to install.</summary>
    internal static string MissingMessage(string libraryName) => libraryName switch
    {
        Sodium => "libsodium not found: install it (Debian/Ubuntu: apt-get install libsodium23; Homebrew: brew install libsodium)",
        Argon2 => "libargon2 not found: install it (Debian/Ubuntu: apt-get install libargon2-1; Homebrew: brew install argon2)",
        _ => $"{libraryName} not found: install it",
    };

    /// <summary>
    /// Tries each candidate in order with <paramref name="tryLoad"/> and returns the first one that
    /// loads, or <see langword="null"/>. Separate from the real loader so that the order is testable.
    /// </summary>
    internal static string? Probe(IReadOnlyList<string> candidates, Func<string, bool> tryLoad)
    {
        foreach (var candidate in candidates)
        {
            if (tryLoad(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>Registers the import resolver on the Veil.Crypto assembly, once per process.</summary>
    internal static void EnsureResolverRegistered()
    {
        if (Volatile.Read(ref s_registered))
        {
            return;
        }

        lock (s_registerLock)
        {
            if (!s_registered)
            {
                NativeLibrary.SetDllImportResolver(s_assembly, Resolve);
                Volatile.Write(ref s_registered, true);
            }
        }
    }

    /// <summary>Loads the library, or returns <see langword="false"/> if none of its candidates loads.</summary>
    internal static bool TryLoad(string libraryName, out nint handle)
    {
        EnsureResolverRegistered();
        if (s_handles.TryGetValue(libraryName, out handle))
        {
            return true;
        }

        nint loaded = 0;
        var name = Probe(CandidatesFor(libraryName), candidate => NativeLibrary.TryLoad(candidate, s_assembly, null, out loaded));
        if (name is null)
        {
            handle = 0;
            return false;
        }

        // Two threads may race to load; the OS refcounts the library, so keeping either handle is fine.
        handle = s_handles.GetOrAdd(libraryName, loaded);
        return true;
    }

    /// <summary>Loads the library or throws <see cref="NativeLibraryMissingException"/>.</summary>
    internal static nint Load(string libraryName) =>
        TryLoad(libraryName, out var handle)
            ? handle
            : throw new NativeLibraryMissingException(MissingMessage(libraryName)) { LibraryName = libraryName };

    private static nint Resolve(string libraryName, Assembly assembly, DllImportSearchPath? searchPath) =>
        CandidatesFor(libraryName).Count == 0 ? 0 : Load(libraryName);
}
