// The log's tiles in the blob store. Blob keys allow only [A-Za-z0-9_-] segments, so the tlog-tiles path
// "tile/0/x001/067.p/5" is stored as "kt/tile/0/x001/067_p/5"; the HTTP path stays the spec's.
// A tile is written before the checkpoint that covers it is committed, so every tile a published
// checkpoint needs exists; a tile past the committed size (a sequencer run that failed before its commit)
// is rewritten by the next run and never served (KtEndpoints checks the size).
using Veil.Crypto.Transparency;
using Veil.Server.Platform.Blobs;

namespace Veil.Server.Transparency;

internal sealed class KtTiles(IBlobStore blobs)
{
    public static string BlobKey(TileId tile) => "kt/" + TlogTiles.Path(tile).Replace(".p/", "_p/", StringComparison.Ordinal);

    public async Task WriteAsync(TileId tile, byte[] content, CancellationToken cancellationToken)
    {
        using var source = new MemoryStream(content, writable: false);
        var result = await blobs.WriteAsync(BlobKey(tile), source, content.Length, cancellationToken);
        if (result.Status != BlobWriteStatus.Stored)
        {
            throw new InvalidOperationException("A tile write did not store the tile.");
        }
    }

    public async Task<byte[]?> ReadAsync(TileId tile, CancellationToken cancellationToken)
    {
        await using var stream = await blobs.OpenReadAsync(BlobKey(tile), cancellationToken);
        if (stream is null)
        {
            return null;
        }

        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy, cancellationToken);
        return copy.ToArray();
    }

    /// <summary>Reads every tile the given nodes of a tree of <paramref name="size"/> leaves live in, as a node source.</summary>
    public async Task<IMerkleNodeSource> NodesAsync(IEnumerable<MerkleNodeId> nodes, long size, CancellationToken cancellationToken)
    {
        var tiles = new Dictionary<TileId, byte[]>();
        foreach (var tile in nodes.Select(n => TlogTiles.TileForNode(n, size)).Distinct())
        {
            tiles[tile] = await ReadAsync(tile, cancellationToken)
                ?? throw new InvalidOperationException("A tile of the committed tree is missing from the blob store.");
        }

        return new TileNodeSource(tiles, size);
    }

    private sealed class TileNodeSource(Dictionary<TileId, byte[]> tiles, long size) : IMerkleNodeSource
    {
        public void ReadNode(MerkleNodeId node, Span<byte> destination)
            => TlogTiles.NodeFromTile(node, tiles[TlogTiles.TileForNode(node, size)], destination);
    }
}
