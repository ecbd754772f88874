using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace Veil.Server.Platform.Persistence;

/// <summary>
/// Stores a <see cref="DateTimeOffset"/> as microseconds since the Unix epoch, UTC. Sub-microsecond
/// ticks are truncated, as Npgsql does for timestamptz, so both providers keep the same instant.
/// </summary>
internal sealed class UnixMicrosecondsConverter() : ValueConverter<DateTimeOffset, long>(
    value => (value.UtcTicks - DateTimeOffset.UnixEpoch.Ticks) / TimeSpan.TicksPerMicrosecond,
    stored => new DateTimeOffset(DateTimeOffset.UnixEpoch.Ticks + (stored * TimeSpan.TicksPerMicrosecond), TimeSpan.Zero));

/// <summary>Normalises a <see cref="DateTimeOffset"/> to offset zero before PostgreSQL sees it.</summary>
internal sealed class UtcDateTimeOffsetConverter() : ValueConverter<DateTimeOffset, DateTimeOffset>(
    value => value.ToUniversalTime(),
    stored => stored.ToUniversalTime());
