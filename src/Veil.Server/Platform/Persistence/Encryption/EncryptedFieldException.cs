namespace Veil.Server.Platform.Persistence.Encryption;

/// <summary>
/// An encrypted column's value did not open: the ciphertext was tampered with, copied from another
/// row or column, or sealed under a field key version this keyring no longer has. The row is not
/// returned rather than returned with garbage. The message names the place, never a value.
/// </summary>
public sealed class EncryptedFieldException : Exception
{
    public EncryptedFieldException()
    {
        Table = Column = RowId = string.Empty;
    }

    public EncryptedFieldException(string message)
        : base(message)
    {
        Table = Column = RowId = string.Empty;
    }

    public EncryptedFieldException(string message, Exception innerException)
        : base(message, innerException)
    {
        Table = Column = RowId = string.Empty;
    }

    internal EncryptedFieldException(string table, string column, string rowId, ushort? keyVersion)
        : base($"The encrypted value in {table}.{column} of row {rowId} does not open "
            + (keyVersion is { } version ? $"(field key v{version}): " : "(malformed envelope): ")
            + "it was tampered with, moved from another row or column, or its key version is missing from the keyring.")
    {
        Table = table;
        Column = column;
        RowId = rowId;
    }

    public string Table { get; }

    public string Column { get; }

    public string RowId { get; }
}
