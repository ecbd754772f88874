// Collecting witness cosignatures for a new checkpoint (c2sp.org/tlog-witness, the log's side). Every witness of
// the policy is asked at once; for each the log remembers the size that witness last cosigned and sends the
// consistency proof from there. A witness that answers 409 holds another size (a restart of this node, another node
// submitted meanwhile): the log retries once from the size it names. A witness that is down, slow (WitnessTimeout)
// or refuses simply contributes nothing — the checkpoint is published only if the cosignatures that did verify
// satisfy the policy's quorum; otherwise the published checkpoint stays where it was and the next tick tries again.
using System.Collections.Concurrent;
using System.Net;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Veil.Crypto.Transparency;

namespace Veil.Server.Transparency;

internal sealed partial class KtWitnessing(IOptions<KtOptions> options, KtWitnessPolicy policy, ILogger<KtWitnessing> logger) : IDisposable
{
    private readonly HttpClient _http = new(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) }) { Timeout = Timeout.InfiniteTimeSpan };
    private readonly ConcurrentDictionary<string, long> _witnessSizes = new(StringComparer.Ordinal);

    /// <summary>
    /// Submits <paramref name="checkpointNote"/> (signed by <paramref name="log"/>) to the policy's witnesses and returns the
    /// note with the cosignatures that verified, or null when they do not reach the quorum.
    /// <paramref name="proofFrom"/> gives the consistency proof from an older size to the checkpoint's.
    /// </summary>
    public async Task<string?> CosignAsync(
        string checkpointNote, Checkpoint checkpoint, Ed25519NoteVerifier log, Func<long, CancellationToken, Task<byte[][]>> proofFrom, CancellationToken cancellationToken)
    {
        var tlog = policy.For(log);
        var answers = await Task.WhenAll(tlog.Witnesses.Where(w => w.Url is not null)
            .Select(w => AskAsync(w, checkpointNote, checkpoint, proofFrom, cancellationToken)));
        var candidate = checkpointNote + string.Concat(answers.Where(a => a is not null));
        if (!SignedNote.TryParse(Encoding.UTF8.GetBytes(candidate), out var note))
        {
            return null;
        }

        var cosigners = tlog.Cosigners(note);
        if (!tlog.IsSatisfiedBy(cosigners))
        {
            LogNoQuorum(logger, checkpoint.Size, cosigners.Count, tlog.Witnesses.Count);
            return null;
        }

        // Keep the log's signature and the verified cosignatures only: a witness's garbage is not published.
        var keep = tlog.Witnesses.Where(w => cosigners.Contains(w.Name)).Select(w => (w.Verifier.Name, w.Verifier.KeyId)).ToHashSet();
        return note.Where(s => (s.Name == log.Name && s.KeyId == log.KeyId) || keep.Contains((s.Name, s.KeyId))).ToString();
    }

    public void Dispose() => _http.Dispose();

    /// <summary>The witness's cosignature line(s), or null when it did not cosign.</summary>
    private async Task<string?> AskAsync(
        PolicyWitness witness, string checkpointNote, Checkpoint checkpoint, Func<long, CancellationToken, Task<byte[][]>> proofFrom, CancellationToken cancellationToken)
    {
        var url = new Uri(witness.Url!.ToString().TrimEnd('/') + "/add-checkpoint");
        var oldSize = _witnessSizes.GetValueOrDefault(witness.Url.ToString());
        for (var attempt = 0; attempt < 2; attempt++)
        {
            if (oldSize > checkpoint.Size)
            {
                LogWitnessAhead(logger, witness.Name, oldSize, checkpoint.Size);
                return null;
            }

            try
            {
                var proof = oldSize == 0 || oldSize == checkpoint.Size ? [] : await proofFrom(oldSize, cancellationToken);
                var body = new AddCheckpointRequest(oldSize, proof, Encoding.UTF8.GetBytes(checkpointNote)).ToBytes();
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(options.Value.WitnessTimeout);
                using var content = new ByteArrayContent(body);
                using var response = await _http.PostAsync(url, content, timeout.Token);
                var text = await response.Content.ReadAsStringAsync(timeout.Token);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    _witnessSizes[witness.Url.ToString()] = checkpoint.Size;
                    return string.Concat(text.Split('\n').Where(l => l.StartsWith("\u2014 ", StringComparison.Ordinal)).Select(l => l + "\n"));
                }

                if (response.StatusCode == HttpStatusCode.Conflict
                    && AddCheckpointRequest.TryParseSize(text.TrimEnd('\n'), out var held) && held != oldSize)
                {
                    oldSize = held;
                    _witnessSizes[witness.Url.ToString()] = held;
                    continue;
                }

                LogRefused(logger, witness.Name, (int)response.StatusCode, checkpoint.Size);
                return null;
            }
            catch (Exception e) when (e is HttpRequestException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                LogUnreachable(logger, witness.Name, e.GetType().Name);
                return null;
            }
        }

        return null;
    }

    [LoggerMessage(EventId = 3810, Level = LogLevel.Warning, Message = "Key transparency: checkpoint {Size} not published: {Cosigners} of {Witnesses} witnesses cosigned, short of the quorum")]
    private static partial void LogNoQuorum(ILogger logger, long size, int cosigners, int witnesses);

    [LoggerMessage(EventId = 3811, Level = LogLevel.Warning, Message = "Key transparency: witness {Witness} is unreachable ({Error})")]
    private static partial void LogUnreachable(ILogger logger, string witness, string error);

    [LoggerMessage(EventId = 3812, Level = LogLevel.Warning, Message = "Key transparency: witness {Witness} answered {Status} to checkpoint {Size}")]
    private static partial void LogRefused(ILogger logger, string witness, int status, long size);

    [LoggerMessage(EventId = 3813, Level = LogLevel.Error, Message = "Key transparency: witness {Witness} holds size {Held}, larger than this log's {Size}: the log was rolled back or forked")]
    private static partial void LogWitnessAhead(ILogger logger, string witness, long held, long size);
}
