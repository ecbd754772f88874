using Veil.Client.Drop;

namespace Veil.Client.Tests.Drop;

public sealed class DropFileNamesTests
{
    [Theory]
    [InlineData("report.pdf", "report.pdf")]
    [InlineData("../../etc/passwd", "passwd")]
    [InlineData("/etc/shadow", "shadow")]
    [InlineData("..\\..\\windows\\win.ini", "win.ini")]
    [InlineData("C:\\Users\\a\\x.txt", "x.txt")]
    [InlineData("evil\u001b[31m\u0007.txt", "evil[31m.txt")]
    [InlineData("new\nline.txt", "newline.txt")]
    [InlineData("rtl\u202Etxt.exe", "rtltxt.exe")]
    [InlineData("  .hidden.  ", "hidden")]
    [InlineData("what?<>|*:\".txt", "what.txt")]
    [InlineData("Überweisung März ☂.pdf", "Überweisung März ☂.pdf")]
    public void Sanitize_KeepsOnlyASafeBasename(string name, string expected) =>
        Assert.Equal(expected, DropFileNames.Sanitize(name, "fallback"));

    [Theory]
    [InlineData("")]
    [InlineData(".")]
    [InlineData("..")]
    [InlineData("../..")]
    [InlineData("dir/")]
    [InlineData("\u0001\u0002")]
    [InlineData("CON")]
    [InlineData("nul.txt")]
    [InlineData("com1")]
    public void Sanitize_NothingUsable_GivesTheFallback(string name) =>
        Assert.Equal("fallback", DropFileNames.Sanitize(name, "fallback"));

    [Fact]
    public void Sanitize_LongName_IsCutTo255Utf8Bytes_KeepingTheExtension()
    {
        string result = DropFileNames.Sanitize(new string('é', 400) + ".tar.gz", "fallback");

        Assert.True(System.Text.Encoding.UTF8.GetByteCount(result) <= 255);
        Assert.EndsWith("é.gz", result, StringComparison.Ordinal);
    }

    [Fact]
    public void AvailablePath_NeverOverwrites_AndStaysInTheDirectory()
    {
        string dir = Directory.CreateTempSubdirectory("veil-names-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(dir, "a.txt"), "x");
            File.WriteAllText(Path.Combine(dir, "a (1).txt"), "x");

            string path = DropFileNames.AvailablePath(dir, "a.txt");

            Assert.Equal(Path.Combine(dir, "a (2).txt"), path);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Printable_RemovesControlAndFormatCharacters() =>
        Assert.Equal("a[2Jb", DropFileNames.Printable("a\u001b[2J\u200Bb\r\n"));
}
