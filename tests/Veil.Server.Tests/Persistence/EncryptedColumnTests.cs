using System.Diagnostics;
using System.Text;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Veil.Crypto.Keys;
using Veil.Server.Platform.Persistence.Encryption;

using Veil.Server.Tests.Kit;

namespace Veil.Server.Tests.Persistence;

public sealed class EncryptedColumnTests(TestEntitiesDatabase database) : IClassFixture<TestEntitiesDatabase>
{
    private static string NewLabel() => "note-" + Guid.NewGuid().ToString("N");

    private async Task<SecretNote> AddNoteAsync(Keyring keyring, string email, byte[]? attachment = null)
    {
        await using var db = database.CreateTestContext(keyring);
        var note = new SecretNote { Label = NewLabel(), Email = email, Attachment = attachment };
        db.SecretNotes.Add(note);
        await db.SaveChangesAsync();
        return note;
    }

    // Column names below are test constants, never input; values go in as parameters.
#pragma warning disable EF1002
    private static Task<byte[]> ReadRawAsync(TestVeilDbContext db, string column, string label) =>
        db.Database.SqlQueryRaw<byte[]>($"SELECT \"{column}\" AS \"Value\" FROM \"SecretNotes\" WHERE \"Label\" = {{0}}", label).SingleAsync();

    private static Task<int> CopyColumnAsync(TestVeilDbContext db, string fromLabel, string fromColumn, string toLabel, string toColumn) =>
        db.Database.ExecuteSqlRawAsync(
            $"UPDATE \"SecretNotes\" SET \"{toColumn}\" = (SELECT \"{fromColumn}\" FROM \"SecretNotes\" WHERE \"Label\" = {{0}}) WHERE \"Label\" = {{1}}",
            fromLabel, toLabel);
#pragma warning restore EF1002

    [Fact]
    public async Task EncryptedProperties_RoundTrip_AsPlaintext()
    {
        using var keyring = TestKeys.Keyring([1], [1]);
        var attachment = new byte[] { 0, 1, 2, 250, 251 };
        var note = await AddNoteAsync(keyring, "alice@example.org", attachment);

        await using var db = database.CreateTestContext(keyring);
        var read = await db.SecretNotes.AsNoTracking().SingleAsync(x => x.Id == note.Id);

        Assert.Equal("alice@example.org", read.Email);
        Assert.Equal(attachment, read.Attachment);
    }

    [Fact]
    public async Task EncryptedColumn_HoldsAnEnvelopeBoundToItsRow_NotThePlaintext()
    {
        using var keyring = TestKeys.Keyring([1], [1]);
        var note = await AddNoteAsync(keyring, "bob@example.org");

        await using var db = database.CreateTestContext(keyring);
        var raw = await ReadRawAsync(db, "Email", note.Label);

        Assert.Equal(FieldEnvelope.Overhead + "bob@example.org".Length, raw.Length);
        Assert.Equal((ushort?)1, FieldEnvelope.KeyVersionOf(raw));
        var opened = FieldEnvelope.Open(keyring, new FieldContext("SecretNotes", "Email", note.Id.ToString("D")), raw);
        Assert.Equal("bob@example.org", Encoding.UTF8.GetString(opened!));
    }

    [Fact]
    public async Task NullEncryptedProperty_IsStoredAsNull_AndReadsBackNull()
    {
        using var keyring = TestKeys.Keyring([1], [1]);
        var note = await AddNoteAsync(keyring, "nobody@example.org", attachment: null);

        await using var db = database.CreateTestContext(keyring);
        var read = await db.SecretNotes.SingleAsync(x => x.Id == note.Id);
        var rawIsNull = await db.Database.SqlQueryRaw<int>("SELECT CASE WHEN \"Attachment\" IS NULL THEN 1 ELSE 0 END AS \"Value\" FROM \"SecretNotes\" WHERE \"Label\" = {0}", note.Label).SingleAsync();

        Assert.Null(read.Attachment);
        Assert.Equal(1, rawIsNull);
    }

    [Fact]
    public async Task CiphertextCopiedIntoAnotherRow_FailsToReadWithTypedError()
    {
        using var keyring = TestKeys.Keyring([1], [1]);
        var victim = await AddNoteAsync(keyring, "victim@example.org");
        var attacker = await AddNoteAsync(keyring, "attacker@example.org");

        await using var db = database.CreateTestContext(keyring);
        Assert.Equal(1, await CopyColumnAsync(db, victim.Label, "Email", attacker.Label, "Email"));
        var error = await Assert.ThrowsAsync<EncryptedFieldException>(() => db.SecretNotes.SingleAsync(x => x.Id == attacker.Id));

        Assert.Equal("SecretNotes", error.Table);
        Assert.Equal("Email", error.Column);
        Assert.Equal(attacker.Id.ToString("D"), error.RowId);
        Assert.DoesNotContain("victim@example.org", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CiphertextCopiedIntoAnotherColumn_FailsToReadWithTypedError()
    {
        using var keyring = TestKeys.Keyring([1], [1]);
        var note = await AddNoteAsync(keyring, "carol@example.org", attachment: [1, 2, 3]);

        await using var db = database.CreateTestContext(keyring);
        await CopyColumnAsync(db, note.Label, "Email", note.Label, "Attachment");
        var error = await Assert.ThrowsAsync<EncryptedFieldException>(() => db.SecretNotes.AsNoTracking().SingleAsync(x => x.Id == note.Id));

        Assert.Equal("Attachment", error.Column);
    }

    [Fact]
    public async Task TamperedCiphertext_FailsToReadWithTypedError()
    {
        using var keyring = TestKeys.Keyring([1], [1]);
        var note = await AddNoteAsync(keyring, "dave@example.org");

        await using var db = database.CreateTestContext(keyring);
        var raw = await ReadRawAsync(db, "Email", note.Label);
        raw[^1] ^= 0x01;
        await db.Database.ExecuteSqlRawAsync("UPDATE \"SecretNotes\" SET \"Email\" = {0} WHERE \"Label\" = {1}", raw, note.Label);

        var error = await Assert.ThrowsAsync<EncryptedFieldException>(() => db.SecretNotes.SingleAsync(x => x.Id == note.Id));
        Assert.Equal(note.Id.ToString("D"), error.RowId);
    }

    [Fact]
    public async Task TruncatedCiphertext_FailsToReadWithTypedError()
    {
        using var keyring = TestKeys.Keyring([1], [1]);
        var note = await AddNoteAsync(keyring, "erin@example.org");

        await using var db = database.CreateTestContext(keyring);
        await db.Database.ExecuteSqlRawAsync("UPDATE \"SecretNotes\" SET \"Email\" = {0} WHERE \"Label\" = {1}", new byte[] { 1, 0 }, note.Label);

        await Assert.ThrowsAsync<EncryptedFieldException>(() => db.SecretNotes.SingleAsync(x => x.Id == note.Id));
    }

    [Fact]
    public async Task RowSealedUnderFieldKeyV1_StillReads_AfterV2BecomesCurrent()
    {
        using var v1 = TestKeys.Keyring([1], [1]);
        var note = await AddNoteAsync(v1, "frank@example.org");

        using var v1v2 = TestKeys.Keyring([1, 2], [1, 2]);
        await using var db = database.CreateTestContext(v1v2);
        var read = await db.SecretNotes.SingleAsync(x => x.Id == note.Id);

        Assert.Equal("frank@example.org", read.Email);
    }

    [Fact]
    public async Task ReadingAnOldRow_DoesNotRewriteIt()
    {
        using var v1 = TestKeys.Keyring([1], [1]);
        var note = await AddNoteAsync(v1, "grace@example.org");

        using var v1v2 = TestKeys.Keyring([1, 2], [1, 2]);
        await using var db = database.CreateTestContext(v1v2);
        _ = await db.SecretNotes.SingleAsync(x => x.Id == note.Id);
        var written = await db.SaveChangesAsync();

        Assert.Equal(0, written);
        Assert.Equal((ushort?)1, FieldEnvelope.KeyVersionOf(await ReadRawAsync(db, "Email", note.Label)));
    }

    [Fact]
    public async Task ChangedValue_IsSealedUnderTheCurrentKeyVersion_AndReindexed()
    {
        using var v1 = TestKeys.Keyring([1], [1]);
        var note = await AddNoteAsync(v1, "heidi@example.org");

        using var v1v2 = TestKeys.Keyring([1, 2], [1, 2]);
        await using (var db = database.CreateTestContext(v1v2))
        {
            var read = await db.SecretNotes.SingleAsync(x => x.Id == note.Id);
            read.Email = "heidi@example.net";
            Assert.Equal(1, await db.SaveChangesAsync());
        }

        await using var check = database.CreateTestContext(v1v2);
        Assert.Equal((ushort?)2, FieldEnvelope.KeyVersionOf(await ReadRawAsync(check, "Email", note.Label)));
        Assert.Equal((ushort?)2, BlindIndex.KeyVersionOf(await ReadRawAsync(check, "EmailIndex", note.Label)));
        Assert.Equal("heidi@example.net", (await check.SecretNotes.SingleAsync(x => x.Id == note.Id)).Email);
    }

    [Fact]
    public async Task RowSealedUnderAKeyVersionTheKeyringLacks_FailsToReadNamingTheVersion()
    {
        using var v1 = TestKeys.Keyring([1], [1]);
        var note = await AddNoteAsync(v1, "ivan@example.org");

        using var v2Only = TestKeys.Keyring([2], [2]);
        await using var db = database.CreateTestContext(v2Only);
        var error = await Assert.ThrowsAsync<EncryptedFieldException>(() => db.SecretNotes.SingleAsync(x => x.Id == note.Id));

        Assert.Contains("field key v1", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BlindIndexLookup_FindsTheRow_ByNormalisedValue()
    {
        using var keyring = TestKeys.Keyring([1], [1]);
        var email = "Judy." + Guid.NewGuid().ToString("N") + "@Example.org";
        var note = await AddNoteAsync(keyring, email);
        await AddNoteAsync(keyring, "someone-else@example.org");

        await using var db = database.CreateTestContext(keyring);
        var found = await db.SecretNotes.WhereBlindIndexMatches(x => x.EmailIndex, "  " + email.ToUpperInvariant() + " ").ToListAsync();

        Assert.Equal(note.Id, Assert.Single(found).Id);
    }

    [Fact]
    public async Task BlindIndexLookup_FindsRowsIndexedUnderAnOlderKeyVersion()
    {
        using var v1 = TestKeys.Keyring([1], [1]);
        var email = "ken." + Guid.NewGuid().ToString("N") + "@example.org";
        var note = await AddNoteAsync(v1, email);

        using var v1v2 = TestKeys.Keyring([1, 2], [1, 2]);
        await using var db = database.CreateTestContext(v1v2);
        var found = await db.SecretNotes.WhereBlindIndexMatches(x => x.EmailIndex, email).SingleOrDefaultAsync();

        Assert.NotNull(found);
        Assert.Equal(note.Id, found.Id);
    }

    [Fact]
    public async Task BlindIndexLookup_ForAnUnknownValue_FindsNothing()
    {
        using var keyring = TestKeys.Keyring([1], [1]);
        await AddNoteAsync(keyring, "leo@example.org");

        await using var db = database.CreateTestContext(keyring);
        var found = await db.SecretNotes.WhereBlindIndexMatches(x => x.EmailIndex, "not-there-" + Guid.NewGuid() + "@example.org").AnyAsync();

        Assert.False(found);
    }

    [Fact]
    public async Task BlindIndexLookup_QueriesTheIndexColumn_NotTheEncryptedColumn()
    {
        using var keyring = TestKeys.Keyring([1, 2], [1, 2]);
        await using var db = database.CreateTestContext(keyring);

        var sql = db.SecretNotes.WhereBlindIndexMatches(x => x.EmailIndex, "mallory@example.org").ToQueryString();

        var where = sql[sql.IndexOf("WHERE", StringComparison.Ordinal)..];
        Assert.Contains("\"EmailIndex\"", where, StringComparison.Ordinal);
        Assert.DoesNotContain("\"Email\"", where, StringComparison.Ordinal);
        Assert.DoesNotContain("mallory", sql, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EncryptedColumn_OnARowWithAStoreGeneratedKey_RefusesToSave()
    {
        using var keyring = TestKeys.Keyring([1], [1]);
        await using var db = database.CreateTestContext(keyring);
        db.NumberedSecrets.Add(new NumberedSecret { Secret = "s" });

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => db.SaveChangesAsync());

        Assert.Contains("generated by the client", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void EncryptedColumn_OfAnUnsupportedType_IsRejectedWhenDeclared()
    {
        var builder = new ModelBuilder();

        var error = Assert.Throws<ArgumentException>(() => builder.Entity<SecretNote>().HasEncryptedColumn(x => x.CreatedAt));

        Assert.Contains("Only string and byte[]", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EncryptedProperty_CannotBeQueriedDirectly()
    {
        using var keyring = TestKeys.Keyring([1], [1]);
        await using var db = database.CreateTestContext(keyring);

        await Assert.ThrowsAsync<InvalidOperationException>(() => db.SecretNotes.Where(x => x.Email == "x@example.org").ToListAsync());
    }

    [Fact]
    public async Task Canary_WrittenToAnEncryptedColumn_IsNotInTheStoredDatabase()
    {
        using var keyring = TestKeys.Keyring([1], [1]);
        var canary = "canary-" + Guid.NewGuid().ToString("N");
        var clearCanary = "clear-" + Guid.NewGuid().ToString("N");
        await using (var db = database.CreateTestContext(keyring))
        {
            db.SecretNotes.Add(new SecretNote { Label = clearCanary, Email = canary + "@example.org", Attachment = Encoding.UTF8.GetBytes(canary) });
            await db.SaveChangesAsync();
        }

        var stored = database.IsPostgres ? await PostgresDumpAsync() : SqliteFileBytes();

        // The label is stored in clear: finding it proves the scan sees the rows it should.
        Assert.Contains(clearCanary, stored, StringComparison.Ordinal);
        Assert.DoesNotContain(canary, stored, StringComparison.Ordinal);
        Assert.DoesNotContain(Convert.ToHexStringLower(Encoding.UTF8.GetBytes(canary)), stored, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Canary_WrittenToAnEncryptedColumn_IsNotInTheRawColumn()
    {
        using var keyring = TestKeys.Keyring([1], [1]);
        var canary = "canary-" + Guid.NewGuid().ToString("N");
        var note = await AddNoteAsync(keyring, canary, Encoding.UTF8.GetBytes(canary));

        await using var db = database.CreateTestContext(keyring);
        var email = await ReadRawAsync(db, "Email", note.Label);
        var attachment = await ReadRawAsync(db, "Attachment", note.Label);

        Assert.Equal(-1, email.AsSpan().IndexOf(Encoding.UTF8.GetBytes(canary)));
        Assert.Equal(-1, attachment.AsSpan().IndexOf(Encoding.UTF8.GetBytes(canary)));
    }

    private string SqliteFileBytes()
    {
        // veil.db, and the WAL, where recent commits live until a checkpoint.
        SqliteConnection.ClearAllPools();
        var text = new StringBuilder();
        foreach (var file in Directory.GetFiles(database.DataDirectory))
        {
            using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            text.Append(Encoding.Latin1.GetString(copy.ToArray()));
        }

        return text.ToString();
    }

    private Task<string> PostgresDumpAsync() =>
        PostgresDump.DataAsync(database.PostgresConnectionString);
}
