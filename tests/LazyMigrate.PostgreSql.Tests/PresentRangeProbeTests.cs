namespace LazyMigrate.PostgreSql.Tests;

/// <summary>
/// When the batched plain insert scans the batch's range for present rows, and how long it stops after a range the
/// table filled past the cap.
/// </summary>
public sealed class PresentRangeProbeTests
{
    [Fact]
    public void NextLimit_IsTwiceTheBatch_UntilARangeIsFilledPastIt()
    {
        var probe = new PresentRangeProbe();

        Assert.Equal(2_000, probe.NextLimit(1_000));
        probe.Record(complete: true);
        Assert.Equal(2_000, probe.NextLimit(1_000));
        Assert.Equal(int.MaxValue, probe.NextLimit(int.MaxValue));
    }

    [Fact]
    public void SmallBatches_NeverScan_NorSpendTheSkipsOfTheLargeOnes()
    {
        var probe = new PresentRangeProbe();
        Assert.Equal(0, probe.NextLimit(PresentRangeProbe.MinBatchSize - 1));
        Assert.Equal(2 * PresentRangeProbe.MinBatchSize, probe.NextLimit(PresentRangeProbe.MinBatchSize));

        probe.Record(complete: false);
        Assert.Equal(0, probe.NextLimit(3));
        Assert.Equal(0, probe.NextLimit(3));
        Assert.Equal(2, SkippedBeforeTheNextScan(probe));
    }

    [Fact]
    public void AfterRangesFilledPastTheCap_TheScanIsSkipped_TwiceAsLongEachTimeInARow_UpTo64Batches()
    {
        var probe = new PresentRangeProbe();
        var skipped = new List<int>();
        for (int miss = 0; miss < 8; miss++)
        {
            probe.Record(complete: false);
            skipped.Add(SkippedBeforeTheNextScan(probe));
        }

        Assert.Equal([2, 4, 8, 16, 32, 64, 64, 64], skipped);

        // A complete scan starts the count again.
        probe.Record(complete: true);
        Assert.Equal(0, SkippedBeforeTheNextScan(probe));
        probe.Record(complete: false);
        Assert.Equal(2, SkippedBeforeTheNextScan(probe));
    }

    [Fact]
    public void Bounds_AreTheLeastAndGreatestIdsInCodePointOrder()
    {
        Assert.Equal(("A", "b"), PresentRangeProbe.Bounds(["a", "b", "B", "A"]));
        Assert.Equal(("10", "9"), PresentRangeProbe.Bounds(["9", "10", "100"]));
        Assert.Equal(("only", "only"), PresentRangeProbe.Bounds(["only"]));
        Assert.Equal(("a\uE000z", "a\U0001F600"), PresentRangeProbe.Bounds(["a\U0001F600", "a\uFF61", "a\uE000z"]));
        Assert.Equal(
            ("\uD7FF", "\U0010FFFF"),
            PresentRangeProbe.Bounds(["\U00010000", "\uD7FF", "\U0010FFFF", "\uFFFF"])
        );
    }

    /// <summary>The order is UTF-8's byte order, PostgreSQL's "C" collation, for every pair of these strings.</summary>
    [Fact]
    public void CodePointOrder_IsTheOrderOfTheUtf8Bytes()
    {
        string[] ids =
        [
            "",
            "a",
            "ab",
            "\u007F",
            "\u0080",
            "\uD7FF",
            "\uE000",
            "\uFF61",
            "\uFFFF",
            "\U00010000",
            "\U0001F600",
            "\U0010FFFF",
            "\U0001F600a",
        ];
        foreach (string left in ids)
        {
            foreach (string right in ids)
            {
                int bytes = ((ReadOnlySpan<byte>)System.Text.Encoding.UTF8.GetBytes(left)).SequenceCompareTo(
                    System.Text.Encoding.UTF8.GetBytes(right)
                );
                Assert.Equal(Math.Sign(bytes), Math.Sign(CodePointOrder.Compare(left, right)));
            }
        }
    }

    private static int SkippedBeforeTheNextScan(PresentRangeProbe probe)
    {
        int skipped = 0;
        while (probe.NextLimit(PresentRangeProbe.MinBatchSize) == 0)
        {
            skipped++;
        }

        return skipped;
    }
}
