// How account deletion and export reach every module without Identity knowing them: each module
// registers an IAccountDataDeleter and an IAccountDataExporter (TryAddEnumerable), and Identity
// runs all of them. A module that stores rows keyed by an account and registers no deleter leaves
// data behind after "delete my account" — so adding such a table means adding a deleter.
namespace Veil.Server.Platform.Auth;

/// <summary>Hard-deletes one account's rows in one module.</summary>
internal interface IAccountDataDeleter
{
    /// <summary>
    /// Deletes every row of <paramref name="accountId"/> this module owns (and its blobs). Runs inside
    /// the deletion's database transaction on the request's scoped <c>VeilDbContext</c>; do not commit.
    /// </summary>
    Task DeleteAccountDataAsync(Guid accountId, CancellationToken cancellationToken);
}

/// <summary>Exports one account's data in one module as JSON-serialisable data.</summary>
internal interface IAccountDataExporter
{
    /// <summary>The member name under <c>modules</c> in the export (e.g. <c>drop</c>).</summary>
    string Module { get; }

    /// <summary>The module's data for the account; <see langword="null"/> when it holds none.</summary>
    Task<object?> ExportAccountDataAsync(Guid accountId, CancellationToken cancellationToken);
}
