namespace LazyMigrate.EntityFrameworkCore.Tests;

/// <summary>
/// The reason an id that does not convert to a key gives: the key type, with the article it is read with.
/// </summary>
public sealed class IdConversionMessageTests
{
    [Fact]
    public void AnIdThatDoesNotConvert_ToAnInt32Key_SaysAnInt32() =>
        Assert.Contains("it does not convert to an Int32 key", ReasonFor<int>("x"), StringComparison.Ordinal);

    [Fact]
    public void AnIdThatDoesNotConvert_ToAGuidKey_SaysAGuid() =>
        Assert.Contains("it does not convert to a Guid key", ReasonFor<Guid>("x"), StringComparison.Ordinal);

    [Theory]
    [InlineData("Int32", "an")]
    [InlineData("Int64", "an")]
    [InlineData("Object", "an")]
    [InlineData("Guid", "a")]
    [InlineData("String", "a")]
    [InlineData("Decimal", "a")]
    [InlineData("UInt32", "a")]
    [InlineData("Uri", "a")]
    [InlineData("Unit", "a")]
    [InlineData("Ulid", "a")]
    [InlineData("SByte", "an")]
    [InlineData("IPAddress", "an")]
    [InlineData("DBNull", "a")]
    public void TheArticle_OfATypeName_IsTheOneItIsReadWith(string name, string article) =>
        Assert.Equal(article, KeyTypeNames.Article(name));

    /// <summary>The message of the failure to convert <paramref name="id"/> with the default conversion.</summary>
    private static string ReasonFor<TKey>(string id)
        where TKey : notnull =>
        Assert
            .Throws<InvalidEntityIdException>(() =>
                IdConversion<TKey>.From(new EntityFrameworkCoreStoreOptions<TKey>()).ToKey(id)
            )
            .Message;
}
