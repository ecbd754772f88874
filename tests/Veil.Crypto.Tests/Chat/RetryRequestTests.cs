// Retry requests (desync recovery): built from the failed message, round-tripped, junk refused.
using Veil.Crypto.Chat;

namespace Veil.Crypto.Tests.Chat;

public sealed class RetryRequestTests
{
    [Fact]
    public void A_retry_request_names_the_failed_sessions_ratchet_key_and_round_trips()
    {
        using var pair = new ChatPair(established: false);
        pair.Alice.Initiate(pair.Bob);
        var preKey = pair.Alice.Encrypt("lost");
        var inner = PreKeySignalMessage.TryParse(preKey.Serialized)!.Message;

        var request = ChatRetryRequest.ForOriginal(preKey.Serialized, SealedContentType.PreKey, 1_765_000_000_123, 2);
        var bytes = request.Serialize();

        Assert.Equal(inner.RatchetKey, request.RatchetKey);
        Assert.Equal(request, ChatRetryRequest.TryParse(bytes));
        Assert.Equal(new ChatRetryRequest(null, 5, 1), ChatRetryRequest.TryParse(ChatRetryRequest.ForOriginal([1, 2], SealedContentType.SenderKey, 5, 1).Serialize()));
        Assert.Null(ChatRetryRequest.TryParse(bytes.AsSpan(0, bytes.Length - 1)));
        Assert.Null(ChatRetryRequest.TryParse(preKey.Serialized));
        Assert.Null(ChatRetryRequest.TryParse([]));
    }
}
