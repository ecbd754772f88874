using Veil.Crypto.Native;

namespace Veil.Crypto.Tests;

public sealed class NativeLibrariesTests
{
    [Fact]
    public void SodiumCandidates_VersionedSonameFirst_InDocumentedOrder()
    {
        var tried = new List<string>();
        var found = NativeLibraries.Probe(NativeLibraries.CandidatesFor("libsodium"), name => { tried.Add(name); return false; });

        Assert.Null(found);
        Assert.Equal(["libsodium.so.23", "libsodium.so", "libsodium.dylib", "libsodium.23.dylib", "libsodium.dll"], tried);
    }

    [Fact]
    public void Argon2Candidates_VersionedSonameFirst_InDocumentedOrder()
    {
        var tried = new List<string>();
        NativeLibraries.Probe(NativeLibraries.CandidatesFor("libargon2"), name => { tried.Add(name); return false; });

        Assert.Equal(["libargon2.so.1", "libargon2.so", "libargon2.1.dylib", "libargon2.dylib", "argon2.dll"], tried);
    }

    [Fact]
    public void Probe_StopsAtFirstLoadableCandidate()
    {
        var tried = new List<string>();
        var found = NativeLibraries.Probe(NativeLibraries.SodiumCandidates, name => { tried.Add(name); return name == "libsodium.dylib"; });

        Assert.Equal("libsodium.dylib", found);
        Assert.Equal(3, tried.Count);
    }

    [Fact]
    public void UnknownLibrary_HasNoCandidates() => Assert.Empty(NativeLibraries.CandidatesFor("libfoo"));

    [Theory]
    [InlineData("libsodium", "libsodium not found: install it (Debian/Ubuntu: apt-get install libsodium23; Homebrew: brew install libsodium)")]
    [InlineData("libargon2", "libargon2 not found: install it (Debian/Ubuntu: apt-get install libargon2-1; Homebrew: brew install argon2)")]
    public void MissingMessage_IsOneLineNamingThePackage(string library, string expected)
    {
        var message = NativeLibraries.MissingMessage(library);

        Assert.Equal(expected, message);
        Assert.DoesNotContain('\n', message);
    }

    [Fact]
    public void MissingException_CarriesMessageAndLibraryName()
    {
        var exception = new NativeLibraryMissingException(NativeLibraries.MissingMessage("libsodium")) { LibraryName = "libsodium" };

        Assert.IsAssignableFrom<DllNotFoundException>(exception);
        Assert.StartsWith("libsodium not found", exception.Message, StringComparison.Ordinal);
        Assert.Equal("libsodium", exception.LibraryName);
    }

    [Fact]
    public void InstalledLibraries_Load()
    {
        Assert.NotEqual(nint.Zero, NativeLibraries.Load("libsodium"));
        Assert.NotEqual(nint.Zero, NativeLibraries.Load("libargon2"));
    }

    [Fact]
    public void SodiumInit_IsThreadSafeAndIdempotent()
    {
        Parallel.For(0, 16, _ => Libsodium.EnsureInitialized());

        Assert.True(Libsodium.TryEnsureInitialized());
    }

    [Fact]
    public void SecretAllocator_UsesSodiumMallocWhenInstalled() => Assert.True(Veil.Crypto.Memory.SecretAllocator.UsesSodium);
}
