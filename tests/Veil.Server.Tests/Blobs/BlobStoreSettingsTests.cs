// Choosing the S3 blob store (Veil:Blobs:Store=s3): its settings are required at boot, production reaches a bucket
// over the network only by https, and a refusal names the setting, never the secret.
using Microsoft.Extensions.Configuration;
using Veil.Server.Platform.Blobs;

namespace Veil.Server.Tests.Blobs;

public sealed class BlobStoreSettingsTests
{
    private const string Canary = "canary-s3-secret-8e2a";

    private static IConfiguration Configuration(bool production, params (string Key, string Value)[] settings)
    {
        var values = new Dictionary<string, string?>
        {
            ["Veil:Production"] = production ? "true" : "false",
            ["Veil:Blobs:Store"] = "s3",
            ["Veil:Blobs:S3:Endpoint"] = "https://s3.example.org",
            ["Veil:Blobs:S3:Bucket"] = "veil",
            ["Veil:Blobs:S3:AccessKey"] = "AK",
            ["Veil:Blobs:S3:SecretKey"] = Canary,
        };
        foreach (var (key, value) in settings)
        {
            values[key] = value.Length == 0 ? null : value;
        }

        return new ConfigurationBuilder().AddInMemoryCollection(values).Build();
    }

    [Fact]
    public void Complete_HttpsSettings_Pass() => Assert.Empty(BlobStoreRegistration.Problems(Configuration(production: true)));

    [Theory]
    [InlineData("Endpoint")]
    [InlineData("Bucket")]
    [InlineData("AccessKey")]
    [InlineData("SecretKey")]
    public void MissingSetting_IsRefused_NamingIt(string name)
    {
        var problem = Assert.Single(BlobStoreRegistration.Problems(Configuration(false, ($"Veil:Blobs:S3:{name}", ""))));

        Assert.Equal($"Veil:Blobs:S3:{name} (env Veil__Blobs__S3__{name}): is required when Veil:Blobs:Store is s3", problem);
    }

    [Theory]
    [InlineData("http://s3.example.org", true, false)]
    [InlineData("http://10.0.0.7:9000", true, false)]
    [InlineData("http://127.0.0.1:9000", true, true)]
    [InlineData("http://localhost:9000", true, true)]
    [InlineData("http://s3.example.org", false, true)] // development: no rule
    public void Production_HttpOverTheNetwork_IsRefused(string endpoint, bool production, bool passes)
    {
        var problems = BlobStoreRegistration.Problems(Configuration(production, ("Veil:Blobs:S3:Endpoint", endpoint))).ToList();

        Assert.Equal(passes, problems.Count == 0);
        Assert.All(problems, p => Assert.StartsWith("Veil:Blobs:S3:Endpoint (env Veil__Blobs__S3__Endpoint): in production", p, StringComparison.Ordinal));
    }

    [Fact]
    public void UnknownStore_IsRefused() =>
        Assert.Equal("Veil:Blobs:Store (env Veil__Blobs__Store): must be 'files' or 's3'",
            Assert.Single(BlobStoreRegistration.Problems(Configuration(false, ("Veil:Blobs:Store", "ftp")))));

    [Fact]
    public void Start_WithoutTheSecret_IsRefusedBeforeAnyRequest_AndNoProblemShowsASecret()
    {
        var setup = new VeilServerSetup();
        setup.Settings["Veil:DataDirectory"] = Directory.CreateTempSubdirectory("veil-blobs-").FullName;
        setup.Settings["Veil:Blobs:Store"] = "s3";
        setup.Settings["Veil:Blobs:S3:Endpoint"] = "http://s3.example.org";
        setup.Settings["Veil:Blobs:S3:Bucket"] = "veil";
        setup.Settings["Veil:Blobs:S3:AccessKey"] = Canary;
        setup.Settings["Veil:Production"] = "true";

        var error = Assert.Throws<VeilStartupException>(() => VeilServer.Build(setup));

        Assert.Contains(error.Problems, p => p.StartsWith("Veil:Blobs:S3:SecretKey", StringComparison.Ordinal));
        Assert.Contains(error.Problems, p => p.StartsWith("Veil:Blobs:S3:Endpoint", StringComparison.Ordinal));
        Assert.DoesNotContain(error.Problems, p => p.Contains(Canary, StringComparison.Ordinal));
    }
}
