using System.Text.RegularExpressions;

namespace LazyMigrate.Tests.Documentation;

/// <summary>
/// The repository explains itself: no file cites a document outside it, every relative link of the Markdown pages
/// leads to a file that exists, every folder the design page's layout names is there, and every line of C# reads
/// without scrolling.
/// </summary>
public sealed partial class RepositoryDocumentsTests
{
    private static readonly string Root = RepositoryRoot.Path;

    // Spelled in two parts so that this file does not cite them itself.
    private static readonly string[] OutsideDocuments = ["DESIGN" + ".md", "../" + "shared"];

    private static readonly string[] TextExtensions =
    [
        ".cs",
        ".md",
        ".props",
        ".targets",
        ".csproj",
        ".nuspec",
        ".sh",
        ".json",
        ".yaml",
        ".sql",
    ];

    [Fact]
    public void NoFile_CitesADocumentOutsideTheRepository()
    {
        string[] citing = SourceFiles()
            .Where(path =>
                File.ReadAllText(path) is var text
                && OutsideDocuments.Any(outside => text.Contains(outside, StringComparison.Ordinal))
            )
            .Select(path => Path.GetRelativePath(Root, path))
            .ToArray();

        Assert.True(
            citing.Length == 0,
            $"these files cite a document outside the repository: {string.Join(", ", citing)}"
        );
    }

    [Fact]
    public void EveryRelativeLink_OfTheMarkdownPages_LeadsToAFileThatExists()
    {
        var broken = new List<string>();
        foreach (string page in SourceFiles().Where(path => path.EndsWith(".md", StringComparison.Ordinal)))
        {
            foreach (Match link in MarkdownLink().Matches(File.ReadAllText(page)))
            {
                string target = link.Groups["target"].Value;
                if (
                    target.Contains("://", StringComparison.Ordinal)
                    || target.StartsWith('#')
                    || target.StartsWith("mailto:", StringComparison.Ordinal)
                )
                {
                    continue;
                }

                string file = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(page)!, target.Split('#')[0]));
                if (!File.Exists(file) && !Directory.Exists(file))
                {
                    broken.Add($"{Path.GetRelativePath(Root, page)}: {target}");
                }
            }
        }

        Assert.True(broken.Count == 0, $"broken links: {string.Join(", ", broken)}");
    }

    [Fact]
    public void EveryFolder_TheDesignPagesLayoutNames_Exists()
    {
        string design = File.ReadAllText(Path.Combine(Root, "docs", "design.md"));
        string layout = design[(design.IndexOf("## Layout", StringComparison.Ordinal))..];
        layout = layout[(layout.IndexOf("```", StringComparison.Ordinal) + 3)..];
        layout = layout[..layout.IndexOf("```", StringComparison.Ordinal)];

        // Each line names a folder (ending in '/') under the folder of the nearest line indented less.
        var parents = new List<(int Indent, string Path)>();
        var folders = new List<string>();
        foreach (string line in layout.Split('\n'))
        {
            Match entry = LayoutEntry().Match(line);
            if (!entry.Success)
            {
                continue;
            }

            int indent = entry.Groups["indent"].Length;
            parents.RemoveAll(p => p.Indent >= indent);
            string folder = Path.Combine(parents.Count == 0 ? Root : parents[^1].Path, entry.Groups["name"].Value);
            parents.Add((indent, folder));
            folders.Add(folder);
        }

        Assert.True(folders.Count >= 10, $"only {folders.Count} folders read from the layout");
        string[] missing = folders.Where(f => !Exists(f)).Select(f => Path.GetRelativePath(Root, f)).ToArray();
        Assert.True(
            missing.Length == 0,
            $"docs/design.md names folders that do not exist: {string.Join(", ", missing)}"
        );
    }

    /// <summary>
    /// CSharpier lays the code out within 120 characters (checked in the build), but it cannot break a string or a
    /// name; this keeps those short too.
    /// </summary>
    [Fact]
    public void NoLineOfCSharp_IsLongerThan120Characters()
    {
        string[] tooLong = SourceFiles()
            .Where(path => path.EndsWith(".cs", StringComparison.Ordinal))
            .SelectMany(path => File.ReadLines(path).Select((line, index) => (path, line, number: index + 1)))
            .Where(l => l.line.Length > 120)
            .Select(l => $"{Path.GetRelativePath(Root, l.path)}:{l.number} ({l.line.Length})")
            .ToArray();

        Assert.True(tooLong.Length == 0, $"lines over 120 characters: {string.Join(", ", tooLong)}");
    }

    /// <summary>Whether the folder exists; a name with a wildcard must match one folder at least.</summary>
    private static bool Exists(string folder) =>
        folder.Contains('*', StringComparison.Ordinal)
            ? Directory.Exists(Path.GetDirectoryName(folder))
                && Directory.EnumerateDirectories(Path.GetDirectoryName(folder)!, Path.GetFileName(folder)).Any()
            : Directory.Exists(folder);

    private static IEnumerable<string> SourceFiles() =>
        Directory
            .EnumerateFiles(Root, "*", SearchOption.AllDirectories)
            .Where(path => TextExtensions.Contains(Path.GetExtension(path)))
            .Where(path =>
                !Path.GetRelativePath(Root, path)
                    .Split(Path.DirectorySeparatorChar)
                    .Any(part => part is "bin" or "obj" or ".git" or "BenchmarkDotNet.Artifacts" or "TestResults")
            );

    [GeneratedRegex(@"\]\((?<target>[^)\s]+)\)")]
    private static partial Regex MarkdownLink();

    // A layout line: indentation, then a folder name ending in '/' (a wildcard such as LazyMigrate.*.Tests/ allowed).
    [GeneratedRegex(@"^(?<indent> *)(?<name>[A-Za-z.*]+(/[A-Za-z.*]+)*)/(\s|$)")]
    private static partial Regex LayoutEntry();
}
