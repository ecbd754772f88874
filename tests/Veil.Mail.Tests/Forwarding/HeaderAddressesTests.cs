using Veil.Mail.Forwarding;

namespace Veil.Mail.Tests.Forwarding;

public sealed class HeaderAddressesTests
{
    // Expected: mailboxes as "display name|address" joined by " ; ", a missing display name written as "-".
    [Theory]
    [InlineData("jane@example.org", "-|jane@example.org")]
    [InlineData("Jane Doe <jane@example.org>", "Jane Doe|jane@example.org")]
    [InlineData("  Jane   Doe\t<jane@example.org>  ", "Jane Doe|jane@example.org")]
    [InlineData("\"Doe, Jane\" <jane@example.org>, bob@example.net", "Doe, Jane|jane@example.org ; -|bob@example.net")]
    [InlineData("\"Jane \\\"JD\\\" Doe\" <jane@example.org>", "Jane \"JD\" Doe|jane@example.org")]
    [InlineData("team: a@example.org, \"B B\" <b@example.org>;, c@example.org", "-|a@example.org ; B B|b@example.org ; -|c@example.org")]
    [InlineData("undisclosed-recipients:;", "")]
    [InlineData("team:;, d@example.org", "-|d@example.org")]
    [InlineData("jane@example.org (Jane Doe)", "Jane Doe|jane@example.org")]
    [InlineData("Jane (work (nested)) Doe <jane@example.org>", "Jane Doe|jane@example.org")]
    [InlineData("jane(comment)@(another)example.org", "-|jane@example.org")]
    [InlineData("=?utf-8?B?w4lsb8Ovc2U=?= <e@example.org>", "Éloïse|e@example.org")]
    [InlineData("=?iso-8859-1?Q?Andr=E9?= Pirard <pirard@example.be>", "André Pirard|pirard@example.be")]
    [InlineData("=?utf-8?Q?J=C3=BCrgen?= =?utf-8?Q?_M=C3=BCller?= <jm@example.de>", "Jürgen Müller|jm@example.de")]
    [InlineData("\"=?utf-8?Q?J=C3=BCrgen?=\" <j@example.de>", "Jürgen|j@example.de")]
    [InlineData("Müller <müller@exämple.de>", "Müller|müller@exämple.de")]
    [InlineData("\"john doe\"@example.org", "-|\"john doe\"@example.org")]
    [InlineData("\"john\"@example.org", "-|john@example.org")]
    [InlineData("<@relay1.example,@relay2.example:user@example.org>", "-|user@example.org")]
    [InlineData("user@[192.0.2.1]", "-|user@[192.0.2.1]")]
    [InlineData("J. R. Doe <JR.Doe@Example.ORG>", "J. R. Doe|JR.Doe@Example.ORG")]
    [InlineData("garbage, Jane <jane@example.org>", "Jane|jane@example.org")]
    [InlineData("no-domain, a@, @b, x@example.org", "-|x@example.org")]
    [InlineData("", "")]
    public void Parse_ReadsEveryMailbox(string value, string expected)
    {
        var result = HeaderAddresses.Parse(value);

        Assert.Equal(expected, string.Join(" ; ", result.Select(m => (m.DisplayName ?? "-") + "|" + m.Address)));
    }

    [Theory]
    [InlineData("<")]
    [InlineData(">>>")]
    [InlineData("<<a@b.c>")]
    [InlineData("@")]
    [InlineData("\"unterminated <a@b.c>")]
    [InlineData("(unterminated comment a@b.c")]
    [InlineData(",,,;;;:::")]
    [InlineData("=?utf-8?B?!!!?= <a@b.c>")]
    [InlineData("=?bogus-charset?Q?x?= <a@b.c>")]
    [InlineData("\\")]
    [InlineData("[unterminated")]
    [InlineData("a@b.c>")]
    public void Parse_Garbage_NeverThrowsAndReturnsOnlyAddresses(string value)
    {
        var result = HeaderAddresses.Parse(value);

        Assert.All(result, m => Assert.Contains("@", m.Address, StringComparison.Ordinal));
    }

    [Fact]
    public void Parse_RandomInput_NeverThrows()
    {
        const string Alphabet = "ab@.<>,;:\"()[]\\ \t=?é\u2013\r\nQB_";
        var random = new Random(20261122);
        var returned = 0;
        for (var n = 0; n < 5000; n++)
        {
            var chars = new char[random.Next(0, 60)];
            for (var i = 0; i < chars.Length; i++)
            {
                chars[i] = Alphabet[random.Next(Alphabet.Length)];
            }

            var result = HeaderAddresses.Parse(new string(chars));
            returned += result.Count;
            Assert.All(result, m => Assert.Contains("@", m.Address, StringComparison.Ordinal));
        }

        Assert.True(returned > 0, "the random inputs should contain some readable addresses");
    }

    [Theory]
    [InlineData(null, "jane@example.org", "jane@example.org")]
    [InlineData("Jane Doe", "jane@example.org", "\"Jane Doe\" <jane@example.org>")]
    [InlineData("Doe, \"JD\" Jane\\", "jane@example.org", "\"Doe, \\\"JD\\\" Jane\\\\\" <jane@example.org>")]
    [InlineData("Line\r\nBreak", "jane@example.org", "\"Line  Break\" <jane@example.org>")]
    public void Format_AsciiNames_AreQuoted(string? name, string address, string expected)
    {
        Assert.Equal(expected, HeaderAddresses.Format(new MailboxAddress(name, address)));
    }

    [Theory]
    [InlineData("Jürgen Müller – jm at example.de")]
    [InlineData("Ça va, \"oui\" <pas@ici>")]
    [InlineData("=?utf-8?B?bm90IGVuY29kZWQ=?=")]
    [InlineData("日本語の名前がとても長い場合でも正しく分割されるべきです。日本語の名前がとても長い場合でも正しく分割されるべきです。")]
    [InlineData("Emoji 😀 at the edge of a word 😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀")]
    public void Format_NonAsciiOrTrickyNames_RoundTripThroughParse(string name)
    {
        var formatted = HeaderAddresses.Format(new MailboxAddress(name, "x@example.org"));

        Assert.All(formatted, c => Assert.True(c is >= ' ' and < (char)127, $"non-ASCII or control character in {formatted}"));
        Assert.All(formatted.Split(' '), word => Assert.True(word.Length <= 75, $"encoded word longer than 75: {word}"));
        var parsed = Assert.Single(HeaderAddresses.Parse(formatted));
        Assert.Equal(name, parsed.DisplayName);
        Assert.Equal("x@example.org", parsed.Address);
    }

    [Fact]
    public void Format_List_RoundTrips()
    {
        MailboxAddress[] list = [new("Doe, Jane", "jane@example.org"), new(null, "bob@example.net"), new("Zoë", "zoe@example.org")];

        var parsed = HeaderAddresses.Parse(HeaderAddresses.Format(list));

        Assert.Equal(list, parsed);
    }
}
