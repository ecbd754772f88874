using System.Text.Json;
using Veil.Crypto.Transparency;

namespace Veil.Crypto.Tests.Transparency;

/// <summary>
/// transparency-dev/merkle's inclusion and consistency vectors (tests/vectors/transparency/merkle) and its RFC 6962
/// hasher answers. Every wantErr vector must be refused. Veil refuses every hash that is not 32 bytes, which the
/// vectors expect everywhere but in one consistency case ("sizes are equal (one) and proof is empty", whose roots are
/// the 12-byte placeholder "don't care 1"): that one is refused here on purpose and counted apart.
/// </summary>
public sealed class MerkleVectorTests
{
    private static readonly string[] HashNames = ["leafHash", "root", "root1", "root2"];
    private static readonly string Root = Path.GetDirectoryName(VectorFiles.Path("transparency/merkle/rfc6962_hasher_vectors.json"))!;

    public static TheoryData<string> InclusionFiles() => Files("inclusion");

    public static TheoryData<string> ConsistencyFiles() => Files("consistency");

    [Theory]
    [MemberData(nameof(InclusionFiles))]
    public void VerifyInclusion_TransparencyDevVector_MatchesWantErr(string file)
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(Root, "testdata", file)));
        var v = doc.RootElement;
        var leafHash = Bytes(v, "leafHash");
        var root = Bytes(v, "root");
        var proof = Proof(v);

        // The vectors use uint64; an index above 2^63 - 1 reaches Veil's long as a negative number, which it refuses.
        var ok = MerkleProof.VerifyInclusion(unchecked((long)v.GetProperty("leafIdx").GetUInt64()), unchecked((long)v.GetProperty("treeSize").GetUInt64()), leafHash, proof, root);

        Assert.Equal(Expected(v, [leafHash, root, .. proof]), ok);
    }

    [Theory]
    [MemberData(nameof(ConsistencyFiles))]
    public void VerifyConsistency_TransparencyDevVector_MatchesWantErr(string file)
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(Root, "testdata", file)));
        var v = doc.RootElement;
        var root1 = Bytes(v, "root1");
        var root2 = Bytes(v, "root2");
        var proof = Proof(v);

        var ok = MerkleProof.VerifyConsistency(unchecked((long)v.GetProperty("size1").GetUInt64()), unchecked((long)v.GetProperty("size2").GetUInt64()), proof, root1, root2);

        Assert.Equal(Expected(v, [root1, root2, .. proof]), ok);
    }

    [Fact]
    public void Vectors_AllFilesFound_AndTheOneStricterCaseIsTheDocumentedOne()
    {
        var all = Enumerable.Concat<object[]>(InclusionFiles(), ConsistencyFiles()).Select(row => (string)row[0]).ToList();
        var stricter = all.Where(f =>
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(Root, "testdata", f)));
            var v = doc.RootElement;
            var hashes = HashNames.Where(n => v.TryGetProperty(n, out _)).Select(n => Bytes(v, n)).Concat(Proof(v));
            return !v.GetProperty("wantErr").GetBoolean() && hashes.Any(h => h.Length != MerkleHasher.HashLength);
        }).ToList();

        Assert.Equal(196, all.Count);
        Assert.Equal(["consistency/additional/sizes-are-equal-one-and-proof-is-empty.json"], stricter);
    }

    [Fact]
    public void Hasher_Rfc6962Answers_Reproduce()
    {
        using var doc = VectorFiles.Json("transparency/merkle/rfc6962_hasher_vectors.json");
        var expected = doc.RootElement.GetProperty("cases").EnumerateArray()
            .ToDictionary(c => c.GetProperty("name").GetString()!, c => c.GetProperty("expected").GetString()!);

        Assert.Equal(expected["empty tree root"], Convert.ToHexStringLower(MerkleHasher.EmptyRoot()));
        Assert.Equal(expected["leaf hash of empty leaf"], Convert.ToHexStringLower(MerkleHasher.HashLeaf([])));
        Assert.Equal(expected["leaf hash of 'L123456'"], Convert.ToHexStringLower(MerkleHasher.HashLeaf("L123456"u8)));
        Assert.Equal(expected["node hash of children 'N123','N456'"], Convert.ToHexStringLower(MerkleHasher.HashChildren("N123"u8, "N456"u8)));
        Assert.Equal(4, expected.Count);
    }

    private static bool Expected(JsonElement v, byte[][] hashes)
        => !v.GetProperty("wantErr").GetBoolean() && hashes.All(h => h.Length == MerkleHasher.HashLength);

    private static TheoryData<string> Files(string kind)
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.EnumerateFiles(Path.Combine(Root, "testdata", kind), "*.json", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            data.Add(Path.GetRelativePath(Path.Combine(Root, "testdata"), file).Replace('\\', '/'));
        }

        return data;
    }

    private static byte[] Bytes(JsonElement v, string name)
        => v.GetProperty(name).ValueKind == JsonValueKind.Null ? [] : Convert.FromBase64String(v.GetProperty(name).GetString()!);

    private static byte[][] Proof(JsonElement v)
        => v.GetProperty("proof").ValueKind == JsonValueKind.Null ? [] : v.GetProperty("proof").EnumerateArray().Select(p => Convert.FromBase64String(p.GetString()!)).ToArray();
}
