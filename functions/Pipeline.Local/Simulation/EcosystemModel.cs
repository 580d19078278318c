namespace Pipeline.Local.Simulation;

/// <summary>A simulated user: an openid-like id, the devices they use, when they join and how often they come back.</summary>
public sealed record SimulatedUser(
    string UserId,
    string Platform,
    string? SecondPlatform,
    int JoinDay,
    double Activity,
    IReadOnlyList<int> Favourites);

/// <summary>A simulated mini-program: its owner, category, popularity, merchants, ad units and pages.</summary>
public sealed record SimulatedMiniProgram(
    string MiniProgramId,
    string DeveloperId,
    string Category,
    double Popularity,
    IReadOnlyList<string> MerchantIds,
    IReadOnlyList<string> AdUnitIds,
    IReadOnlyList<string> Pages)
{
    public bool Sells => MerchantIds.Count > 0;

    public bool ShowsAds => AdUnitIds.Count > 0;
}

/// <summary>
/// The synthetic ecosystem: users and mini-programs, drawn from the seed. Popularity is Zipf-like,
/// so a few programs take most sessions (and the top-10 share guardrail means something); a third
/// of the users are there from the first day, the others join over the days (so new users,
/// retention and the active-user windows all move).
/// </summary>
public sealed class EcosystemModel
{
    private static readonly string[] Categories =
        ["shopping", "food", "travel", "tools", "games", "education", "lifestyle", "finance", "health", "social", "news", "government"];

    private static readonly HashSet<string> SellingCategories = new(StringComparer.Ordinal) { "shopping", "food", "travel", "lifestyle", "health", "education" };
    private static readonly HashSet<string> AdCategories = new(StringComparer.Ordinal) { "tools", "games", "news", "lifestyle", "social", "food" };

    private static readonly string[] CommonPages = ["index/index", "search/search", "detail/detail", "user/profile", "settings/settings"];

    private static readonly Dictionary<string, string[]> CategoryPages = new(StringComparer.Ordinal)
    {
        ["shopping"] = ["cart/cart", "order/confirm", "order/list", "category/category", "coupon/coupon"],
        ["food"] = ["menu/menu", "order/confirm", "store/nearby", "queue/ticket"],
        ["travel"] = ["flight/search", "hotel/list", "order/confirm", "trip/detail"],
        ["tools"] = ["scan/scan", "convert/convert", "history/history"],
        ["games"] = ["game/play", "rank/rank", "shop/shop"],
        ["education"] = ["course/list", "course/play", "order/confirm"],
        ["lifestyle"] = ["service/book", "order/confirm", "review/list"],
        ["finance"] = ["account/balance", "bill/list"],
        ["health"] = ["doctor/list", "appointment/book", "order/confirm"],
        ["social"] = ["feed/feed", "chat/room", "moment/post"],
        ["news"] = ["article/detail", "channel/list", "video/play"],
        ["government"] = ["service/apply", "progress/query", "certificate/show"],
    };

    private static readonly string[] Platforms = ["ios", "android", "harmony", "windows", "mac", "devtools", "other"];
    private static readonly double[] PlatformWeights = [40, 44, 9, 3, 2, 1, 1];

    private EcosystemModel(IReadOnlyList<SimulatedUser> users, IReadOnlyList<SimulatedMiniProgram> miniPrograms, IReadOnlyList<double> popularity)
    {
        Users = users;
        MiniPrograms = miniPrograms;
        PopularityWeights = popularity;
    }

    public IReadOnlyList<SimulatedUser> Users { get; }

    public IReadOnlyList<SimulatedMiniProgram> MiniPrograms { get; }

    /// <summary>The programs' popularity, index for index, for weighted draws.</summary>
    public IReadOnlyList<double> PopularityWeights { get; }

    /// <summary>Builds the ecosystem of <paramref name="options"/> for a period of <paramref name="dayCount"/> reporting days.</summary>
    public static EcosystemModel Create(SimulationOptions options, int dayCount)
    {
        var random = new SimRandom(options.Seed, stream: 1);
        var programs = CreatePrograms(options, random);
        var popularity = programs.Select(p => p.Popularity).ToArray();

        var users = new List<SimulatedUser>(options.Users);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < options.Users; i++)
        {
            string id;
            do id = "o6_" + random.IdChars(25); while (!seen.Add(id));
            var platform = Platforms[random.PickWeighted(PlatformWeights)];
            // Some people also open mini-programs on a desktop client.
            var second = random.Chance(0.12) ? (random.Chance(0.6) ? "windows" : "mac") : null;
            var joinDay = random.Chance(0.35) || dayCount == 1 ? 0 : random.Next(dayCount);
            // Heavy, regular and occasional users.
            var activity = random.PickWeighted([20, 45, 35]) switch { 0 => 0.85, 1 => 0.5, _ => 0.18 };
            var favourites = new List<int>();
            var count = Math.Min(programs.Count, 1 + random.Poisson(1.6));
            for (var tries = 0; favourites.Count < count && tries < 50; tries++)
            {
                var pick = random.PickWeighted(popularity);
                if (!favourites.Contains(pick)) favourites.Add(pick);
            }
            users.Add(new SimulatedUser(id, platform, second, joinDay, activity, favourites));
        }
        return new EcosystemModel(users, programs, popularity);
    }

    private static List<SimulatedMiniProgram> CreatePrograms(SimulationOptions options, SimRandom random)
    {
        var ids = new List<string>();
        if (options.RestrictsMiniPrograms)
        {
            ids.AddRange(options.AllowedMiniProgramIds!.Distinct(StringComparer.Ordinal));
        }
        else
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            while (ids.Count < options.MiniPrograms)
            {
                var id = "wx" + random.Hex(16);
                if (seen.Add(id)) ids.Add(id);
            }
        }

        var developers = new List<string>();
        var programs = new List<SimulatedMiniProgram>(ids.Count);
        for (var rank = 0; rank < ids.Count; rank++)
        {
            // A developer often owns more than one program.
            if (developers.Count == 0 || random.Chance(0.6)) developers.Add("dev-" + random.Hex(8));
            var developer = random.Pick(developers);
            var category = Categories[(rank + random.Next(3)) % Categories.Length];
            if (rank == 0) category = "shopping"; // the dominant program sells, so GMV is never empty
            if (rank == 1) category = "tools";    // and the next shows ads
            var popularity = 1.0 / Math.Pow(rank + 1, 1.15);

            var merchants = new List<string>();
            if (SellingCategories.Contains(category) || random.Chance(0.15))
            {
                var n = 1 + random.Next(3);
                for (var m = 0; m < n; m++) merchants.Add("m-" + random.Next(100_000, 1_000_000) + random.Next(1000, 10_000));
            }
            var adUnits = new List<string>();
            if (AdCategories.Contains(category) || random.Chance(0.25))
            {
                var n = 1 + random.Next(3);
                for (var a = 0; a < n; a++) adUnits.Add("adunit-" + random.Hex(16));
            }

            // WeChat reports page routes without a leading slash; some SDKs add one. Both appear.
            var slash = rank % 4 == 3 ? "" : "/";
            var pages = CommonPages.Concat(CategoryPages[category]).Select(p => $"{slash}pages/{p}").ToList();
            programs.Add(new SimulatedMiniProgram(ids[rank], developer, category, popularity, merchants, adUnits, pages));
        }
        return programs;
    }

    /// <summary>A platform of the user: their phone mostly, their desktop client sometimes.</summary>
    internal static string PlatformFor(SimulatedUser user, SimRandom random) =>
        user.SecondPlatform is not null && random.Chance(0.25) ? user.SecondPlatform : user.Platform;
}
