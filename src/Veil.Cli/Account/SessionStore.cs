// The CLI's only persistent state: the refresh token of the current session, with the server URL and
// the account email it belongs to. Never the password, the auth token or the encryption key: a stolen
// file yields a session the owner can revoke (and that dies when rotated elsewhere), not the account.
// The file is created with mode 0600 in a 0700 directory; a new version is written to a temporary file
// created with that mode and renamed over the old one, so the mode is never changed after writing and
// a crash never leaves half a file.
using System.Text.Json;
using Veil.Client;

namespace Veil.Cli.Account;

internal sealed record StoredSession(string Server, string Email, string RefreshToken);

internal sealed class SessionStore(string directory)
{
    public const string ConfigDirectoryVariable = "VEIL_CONFIG_DIR";
    public const string FileName = "session.json";

    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public string Directory { get; } = directory;

    public string FilePath => Path.Combine(Directory, FileName);

    /// <summary>VEIL_CONFIG_DIR, else $XDG_CONFIG_HOME/veil (absolute only, per the XDG spec), else ~/.config/veil.</summary>
    public static SessionStore Default()
    {
        var explicitDirectory = Environment.GetEnvironmentVariable(ConfigDirectoryVariable);
        if (!string.IsNullOrEmpty(explicitDirectory))
        {
            return new SessionStore(Path.GetFullPath(explicitDirectory));
        }

        var xdg = Environment.GetEnvironmentVariable("XDG_CONFIG_HOME");
        if (!string.IsNullOrEmpty(xdg) && Path.IsPathRooted(xdg))
        {
            return new SessionStore(Path.Combine(xdg, "veil"));
        }

        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        return new SessionStore(Path.Combine(home, ".config", "veil"));
    }

    public StoredSession? Load()
    {
        if (!File.Exists(FilePath))
        {
            return null;
        }

        try
        {
            var session = JsonSerializer.Deserialize<StoredSession>(File.ReadAllBytes(FilePath), JsonOptions);
            return session is { Server: not null, Email: not null, RefreshToken: not null } ? session : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public void Save(StoredSession session)
    {
        ArgumentNullException.ThrowIfNull(session);
        EnsureDirectory();

        var temporary = Path.Combine(Directory, $".{FileName}.{Environment.ProcessId}.tmp");
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        try
        {
            using (var file = new FileStream(temporary, options))
            {
                JsonSerializer.Serialize(file, session, JsonOptions);
                file.Flush(flushToDisk: true);
            }

            File.Move(temporary, FilePath, overwrite: true);
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    public void Delete() => File.Delete(FilePath);

    /// <summary>
    /// Serialises the veil processes that use this session: every run rotates the refresh token, and two
    /// runs presenting the same token would look like a replay and revoke the session. The lock (an
    /// exclusive open of a lock file, flock on Unix) is held until the returned handle is disposed or the
    /// process exits.
    /// </summary>
    /// <exception cref="TimeoutException">Another veil process held the session for <paramref name="timeout"/>.</exception>
    public IDisposable Lock(TimeSpan timeout)
    {
        EnsureDirectory();
        try
        {
            return PrivateFileLock.Acquire(Path.Combine(Directory, "session.lock"), timeout, TimeSpan.FromMilliseconds(100));
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"another veil process is using the session in {Directory}", e.InnerException);
        }
    }

    private void EnsureDirectory()
    {
        if (OperatingSystem.IsWindows())
        {
            System.IO.Directory.CreateDirectory(Directory);
        }
        else
        {
            System.IO.Directory.CreateDirectory(Directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }
}
