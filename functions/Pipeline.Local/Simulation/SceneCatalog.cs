namespace Pipeline.Local.Simulation;

/// <summary>
/// The entry-scene codes the simulated runtimes report, grouped by the channel WeChat's list puts
/// them in. This is the client's own copy (an SDK does not read the pipeline's table), so a test can
/// check the two agree. <see cref="Other"/> holds real codes the channel table does not list (they
/// still have WeChat access sources) and one code no table knows.
/// </summary>
public static class SceneCatalog
{
    public static readonly IReadOnlyDictionary<string, int[]> CodesByChannel = new Dictionary<string, int[]>(StringComparer.Ordinal)
    {
        ["explore"] = [1024, 1026, 1033, 1075, 1079, 1092, 1112, 1115, 1118, 1134, 1135, 1141, 1142, 1143, 1145, 1169, 1179, 1220, 1242, 1254, 1258, 1259, 1260, 1272, 1278, 1279, 1285, 1292, 1293, 1302, 1303, 1307, 1308, 1373],
        ["search"] = [1005, 1006, 1027, 1042, 1053, 1054, 1106, 1108, 1132, 1183, 1233, 1244, 1245, 1252, 1280, 1281, 1297, 1298, 1299, 1300, 1301],
        ["share"] = [1007, 1008, 1009, 1036, 1044, 1093, 1094, 1096, 1110, 1154, 1155, 1158, 1159, 1160, 1173, 1185, 1208, 1225, 1226, 1265, 1266, 1267, 1313],
        ["qr"] = [1011, 1012, 1013, 1025, 1031, 1032, 1047, 1048, 1049, 1050, 1105, 1124, 1125, 1126, 1150, 1153],
        ["recent"] = [1001, 1002, 1003, 1004, 1010, 1022, 1023, 1089, 1090, 1103, 1104, 1113, 1114, 1117, 1131, 1178, 1186, 1187, 1223, 1255, 1256, 1257, 1271, 1273, 1304],
        ["official_account"] = [1020, 1035, 1043, 1058, 1074, 1076, 1082, 1091, 1102, 1130, 1144, 1152, 1157, 1261, 1287, 1305, 1306, 1309, 1311],
        ["ads"] = [1045, 1046, 1067, 1068, 1084, 1095, 1189, 1200, 1201, 1215, 1228, 1230, 1232, 1238, 1274, 1295, 1387],
        ["payment"] = [1019, 1028, 1029, 1034, 1052, 1057, 1060, 1061, 1066, 1070, 1071, 1072, 1097, 1098, 1100, 1109, 1137, 1148, 1149, 1151, 1216],
        ["mini_program"] = [1037, 1038, 1199, 1362],
        // Template message, customer service, shake, other apps, MP customer service, WeCom, MP live: real
        // scenes outside the channel table; 1999 is a code WeChat has not published (yet).
        [Other] = [1014, 1021, 1039, 1065, 1073, 1119, 1161, 1999],
    };

    public const string Other = "other";

    /// <summary>Every channel the simulator draws from, in a fixed order.</summary>
    public static readonly IReadOnlyList<string> Channels =
        ["recent", "explore", "search", "share", "qr", "official_account", "ads", "payment", "mini_program", Other];

    /// <summary>How sessions of returning users enter: mostly from the recent list, then discovery.</summary>
    internal static readonly double[] ReturningWeights = [30, 12, 11, 12, 9, 6, 5, 5, 4, 6];

    /// <summary>How a new user's first session enters: discovery routes dominate.</summary>
    internal static readonly double[] FirstVisitWeights = [0, 22, 18, 28, 16, 4, 8, 2, 1, 1];
}
