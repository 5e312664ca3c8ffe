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
        probe.Record(complete: true);

        Assert.Equal(2_000, probe.NextLimit(1_000));
        Assert.Equal(2_000, probe.NextLimit(1_000));
        Assert.Equal(int.MaxValue, probe.NextLimit(int.MaxValue));
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
    public void Bounds_AreTheLeastAndGreatestIdsInOrdinalOrder()
    {
        Assert.Equal(("A", "b"), PresentRangeProbe.Bounds(["a", "b", "B", "A"]));
        Assert.Equal(("10", "9"), PresentRangeProbe.Bounds(["9", "10", "100"]));
        Assert.Equal(("only", "only"), PresentRangeProbe.Bounds(["only"]));
    }

    private static int SkippedBeforeTheNextScan(PresentRangeProbe probe)
    {
        int skipped = 0;
        while (probe.NextLimit(10) == 0)
        {
            skipped++;
        }

        return skipped;
    }
}
