using System.Text.RegularExpressions;

namespace LazyMigrate.Tests.Documentation;

/// <summary>
/// Every C# block of README.md, docs/*.md and the packages' READMEs (src/*/README.md) appears, verbatim up to
/// whitespace, in an example test: a file named <c>*ExamplesTests.cs</c> under tests/ (in-memory examples in this
/// project, PostgreSQL, EF Core and DistributedLock ones in the adapter test projects, which have servers). The tests
/// compile and run the examples and assert what the docs claim, so an example edited in a doc and not in its test fails
/// here.
/// </summary>
public sealed partial class DocumentationCoverageTests
{
    private static readonly string Root = RepositoryRoot.Path;

    private static readonly Lazy<string[]> Examples = new(() =>
        Directory
            .GetFiles(Path.Combine(Root, "tests"), "*ExamplesTests.cs", SearchOption.AllDirectories)
            .Where(IsSource)
            .Select(path => Normalize(File.ReadAllText(path)))
            .ToArray()
    );

    /// <summary>Each block as (document, position, code), for example ("docs/testing.md", 3, "...").</summary>
    public static TheoryData<string, int> Blocks()
    {
        var data = new TheoryData<string, int>();
        foreach ((string document, int position, _) in ReadBlocks())
        {
            data.Add(document, position);
        }

        return data;
    }

    [Fact]
    public void Documents_HoldCSharpBlocks()
    {
        // Guards the extraction itself: a change of fence style would otherwise leave nothing to check.
        Assert.True(ReadBlocks().Count() >= 20, $"only {ReadBlocks().Count()} csharp blocks found under {Root}");
        Assert.Contains(ReadBlocks(), block => block.Document == "README.md");
        Assert.Contains(ReadBlocks(), block => block.Document == "src/LazyMigrate.PostgreSql/README.md");
    }

    [Theory]
    [MemberData(nameof(Blocks))]
    public void CSharpBlock_AppearsVerbatimInAnExampleTest(string document, int position)
    {
        string code = ReadBlocks().Single(b => b.Document == document && b.Position == position).Code;

        Assert.True(
            Examples.Value.Any(example => example.Contains(Normalize(code), StringComparison.Ordinal)),
            $"C# block {position} of {document} is in no *ExamplesTests.cs under tests/ (whitespace aside):\n{code}"
        );
    }

    private static IEnumerable<(string Document, int Position, string Code)> ReadBlocks()
    {
        string[] documents =
        [
            Path.Combine(Root, "README.md"),
            .. Directory.GetFiles(Path.Combine(Root, "docs"), "*.md").Order(),
            .. Directory
                .GetFiles(Path.Combine(Root, "src"), "README.md", SearchOption.AllDirectories)
                .Where(IsSource)
                .Order(),
        ];
        foreach (string path in documents)
        {
            string document = Path.GetRelativePath(Root, path).Replace(Path.DirectorySeparatorChar, '/');
            int position = 0;
            foreach (Match block in CSharpBlock().Matches(File.ReadAllText(path).ReplaceLineEndings("\n")))
            {
                yield return (document, ++position, block.Groups[1].Value);
            }
        }
    }

    /// <summary>Whether a file is a source file, not a copy in a build folder.</summary>
    private static bool IsSource(string path) =>
        !path.Split(Path.DirectorySeparatorChar).Any(part => part is "bin" or "obj");

    // Whitespace is dropped, not collapsed: the tests' code is laid out by CSharpier, which breaks lines where the
    // docs do not ("Foo(" then a new line), and a trailing comma it adds to a multi-line list is not a difference
    // either.
    private static string Normalize(string code) => TrailingComma().Replace(Whitespace().Replace(code, ""), "$1");

    [GeneratedRegex(@"^```csharp[ \t]*\n(.*?)\n[ \t]*```", RegexOptions.Singleline | RegexOptions.Multiline)]
    private static partial Regex CSharpBlock();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();

    [GeneratedRegex(@",([)\]}])")]
    private static partial Regex TrailingComma();
}
