using Microsoft.Extensions.Configuration;
using Veil.Crypto.Keys;
using Veil.Server.Platform.Keys;

namespace Veil.Server.Tests;

[System.Runtime.Versioning.UnsupportedOSPlatform("windows")] // file modes are the point of several tests
public sealed class KeysTests : IDisposable
{
    private readonly string _data = Directory.CreateTempSubdirectory("veil-keys-").FullName;

    public void Dispose() => Directory.Delete(_data, recursive: true);

    private static string Key(byte fill, int length = 32) => Convert.ToBase64String(Enumerable.Repeat(fill, length).ToArray());

    private static IConfiguration Config(params (string Key, string Value)[] settings) =>
        new ConfigurationBuilder().AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value))).Build();

    [Fact]
    public void Production_WithoutKeys_NamesEveryMissingSettingAndItsEnvironmentVariable()
    {
        var load = KeyringLoader.Load(Config(), _data, production: true);

        Assert.Null(load.Keyring);
        foreach (var name in ServerKeys.Names)
        {
            Assert.Contains(load.Problems, p => p.StartsWith($"Veil:Keys:{name} (env Veil__Keys__{name}): missing", StringComparison.Ordinal));
        }

        Assert.False(File.Exists(Path.Combine(_data, DevelopmentKeyring.FileName)));
    }

    [Fact]
    public void ShortOrInvalidKey_IsNamedWithoutItsValue()
    {
        var shortKey = Key(7, 16);
        var load = KeyringLoader.Load(Config(("Veil:Keys:field", shortKey), ("Veil:Keys:index", "not base64!")), _data, production: true);

        Assert.Contains(load.Problems, p => p.StartsWith("Veil:Keys:field (env Veil__Keys__field): too short", StringComparison.Ordinal));
        Assert.Contains(load.Problems, p => p.StartsWith("Veil:Keys:index (env Veil__Keys__index): not valid base64", StringComparison.Ordinal));
        Assert.DoesNotContain(load.Problems, p => p.Contains(shortKey, StringComparison.Ordinal) || p.Contains("not base64!", StringComparison.Ordinal));
    }

    [Fact]
    public void VersionPrefixAndRetiredKeys_KeepTheirVersionNumbers()
    {
        var settings = ServerKeys.Names.Select(n => ($"Veil:Keys:{n}", Key(1))).ToList();
        settings[0] = ("Veil:Keys:field", "v3:" + Key(3));
        settings.Add(("Veil:RetiredKeys:field:1", Key(11)));
        settings.Add(("Veil:RetiredKeys:field:2", Key(12)));

        var load = KeyringLoader.Load(Config([.. settings]), _data, production: true);

        Assert.Empty(load.Problems);
        using var keyring = load.Keyring!;
        Assert.Equal(3, keyring.Current("field").Version);
        Assert.Equal([3, 2, 1], keyring.Versions("field").Select(k => (int)k.Version));
        var sealedValue = FieldEnvelope.Seal(keyring, new FieldContext("t", "c", "1"), "x"u8);
        Assert.Equal(3, System.Buffers.Binary.BinaryPrimitives.ReadUInt16BigEndian(sealedValue.AsSpan(1, 2)));
    }

    [Fact]
    public void RetiredKeyNotOlderThanCurrent_IsRejected()
    {
        var load = KeyringLoader.Load(Config(("Veil:Keys:field", "v2:" + Key(2)), ("Veil:RetiredKeys:field:2", Key(9))), _data, production: false);

        Assert.Contains(load.Problems, p => p.StartsWith("Veil:RetiredKeys:field:2 (env Veil__RetiredKeys__field__2): a retired version must be lower", StringComparison.Ordinal));
    }

    [Fact]
    public void UnknownKeyName_IsRejected()
    {
        var load = KeyringLoader.Load(Config(("Veil:Keys:feild", Key(1))), _data, production: false);

        Assert.Contains(load.Problems, p => p.StartsWith("Veil:Keys:feild: unknown key name", StringComparison.Ordinal));
    }

    [Fact]
    public void Development_FirstRun_GeneratesOwnerOnlyKeyringWithEveryKey()
    {
        var load = KeyringLoader.Load(Config(), _data, production: false);

        Assert.Empty(load.Problems);
        Assert.True(load.Development!.Generated);
        var path = Path.Combine(_data, DevelopmentKeyring.FileName);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        Assert.All(ServerKeys.Names, name => Assert.True(load.Keyring!.Contains(name)));
        Assert.Empty(Directory.GetFiles(_data, "*.tmp"));
        load.Keyring!.Dispose();
    }

    [Fact]
    public void Development_SecondRun_ReusesTheSameKeys()
    {
        using var first = KeyringLoader.Load(Config(), _data, production: false).Keyring!;
        var second = KeyringLoader.Load(Config(), _data, production: false);
        using var secondKeyring = second.Keyring!;

        Assert.False(second.Development!.Generated);
        var sealedValue = FieldEnvelope.Seal(first, new FieldContext("t", "c", "1"), "hello"u8);
        var opened = new byte[5];
        Assert.True(FieldEnvelope.TryOpen(secondKeyring, new FieldContext("t", "c", "1"), sealedValue, opened));
    }

    [Fact]
    public void Development_KeyringReadableByOthers_IsRefused()
    {
        KeyringLoader.Load(Config(), _data, production: false).Keyring!.Dispose();
        var path = Path.Combine(_data, DevelopmentKeyring.FileName);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

        var load = KeyringLoader.Load(Config(), _data, production: false);

        Assert.Null(load.Keyring);
        Assert.Contains(load.Problems, p => p.Contains("mode 0644", StringComparison.Ordinal) && p.Contains(path, StringComparison.Ordinal));
    }

    [Fact]
    public void Development_ConfiguredKeyOverridesTheGeneratedOne()
    {
        var load = KeyringLoader.Load(Config(("Veil:Keys:session", "v5:" + Key(5))), _data, production: false);
        using var keyring = load.Keyring!;

        Assert.Equal(5, keyring.Current("session").Version);
        Assert.DoesNotContain("session", load.Development!.Names);
    }

    [Fact]
    public void UnusableDataDirectory_RefusesToStartWithOneLineNamingTheSetting()
    {
        var file = Path.Combine(_data, "a-file");
        File.WriteAllText(file, "x");
        var setup = new VeilServerSetup();
        setup.Settings["Veil:DataDirectory"] = Path.Combine(file, "data");

        var error = Assert.Throws<VeilStartupException>(() => VeilServer.Build(setup));

        var problem = Assert.Single(error.Problems);
        Assert.StartsWith("Veil:DataDirectory (env Veil__DataDirectory): cannot read and write", problem, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', problem);
    }

    [Fact]
    public async Task BadPublicOrigin_FailsAtStartNamingTheSetting()
    {
        var setup = new VeilServerSetup();
        setup.Settings["Veil:DataDirectory"] = Path.Combine(_data, "d");
        setup.Settings["Veil:PublicOrigin"] = "ftp://nope/path";
        setup.Settings["urls"] = "http://127.0.0.1:0";
        await using var app = VeilServer.Build(setup);

        var error = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(() => VeilServer.StartAsync(app, CancellationToken.None));

        Assert.Contains(error.Failures, f => f.StartsWith("Veil:PublicOrigin", StringComparison.Ordinal));
    }
}
