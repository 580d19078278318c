using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Pipeline.Core.Rollup;

/// <summary>
/// Compact binary form of <see cref="WindowState"/> for <c>IRollupStateStore</c>.
/// </summary>
/// <remarks>
/// Layout: magic <c>PRWS</c>, a version byte (<see cref="Version"/>), a flag byte (1 when the state
/// has a day) and that day as little-endian int32; then six sections (users and user-programs, each with its 64-day activity bitmap as a varint since version 2;
/// sessions, orders, buyers, programs), each a varint count of entries. Days are written as
/// zig-zag varints of their distance back from the state's day (mostly one byte); times as zig-zag
/// varints. Strings are interned per document: varint 0 followed by a length-prefixed UTF-8 string
/// the first time, varint index+1 after that, so a user key or mini-program id is stored once.
/// Entries are written in ordinal key order, so equal states encode to equal bytes.
/// A reader rejects other magics and versions it does not know (throws <see cref="InvalidDataException"/>).
/// </remarks>
public static class WindowStateCodec
{
    public const byte Version = 2;

    /// <summary>Version 1, before the activity bitmap: read with only the last active day known.</summary>
    private const byte VersionWithoutActivity = 1;
    private static ReadOnlySpan<byte> Magic => "PRWS"u8;

    public static byte[] Encode(WindowState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        var w = new Writer(new ArrayBufferWriter<byte>(1024 + state.Users.Count * 16 + state.Sessions.Count * 48));
        w.Raw(Magic);
        w.Byte(Version);
        w.Byte(state.AsOfDay is null ? (byte)0 : (byte)1);
        var baseDay = state.AsOfDay ?? 0;
        Span<byte> i32 = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(i32, baseDay);
        w.Raw(i32);

        var users = state.Users.Keys.ToArray();
        Array.Sort(users, StringComparer.Ordinal);
        w.VarUInt((ulong)users.Length);
        foreach (var u in users)
        {
            var e = state.Users[u];
            w.Str(u); w.Day(baseDay, e.FirstDay); w.Str(e.FirstChannel); w.Day(baseDay, e.LastActiveDay); w.VarUInt(e.ActiveDays);
        }

        var ups = state.UserPrograms.Keys.ToArray();
        Array.Sort(ups, (a, b) => Cmp(a.UserKey, b.UserKey, a.MiniProgramId, b.MiniProgramId));
        w.VarUInt((ulong)ups.Length);
        foreach (var k in ups)
        {
            var e = state.UserPrograms[k];
            w.Str(k.UserKey); w.Str(k.MiniProgramId); w.Day(baseDay, e.FirstDay); w.Str(e.FirstChannel); w.Day(baseDay, e.LastActiveDay); w.VarUInt(e.ActiveDays);
        }

        var sessions = state.Sessions.Keys.ToArray();
        Array.Sort(sessions, (a, b) => Cmp(a.UserKey, b.UserKey, a.MiniProgramId, b.MiniProgramId, a.SessionId, b.SessionId));
        w.VarUInt((ulong)sessions.Length);
        foreach (var k in sessions)
        {
            var s = state.Sessions[k];
            w.Str(k.UserKey); w.Str(k.MiniProgramId); w.Str(k.SessionId);
            w.Day(baseDay, s.Day); w.VarInt(s.Scene); w.Str(s.Channel); w.Str(s.Platform); w.VarInt(s.StartTimeMs); w.Str(s.StartEventId);
        }

        var orders = state.Orders.Keys.ToArray();
        Array.Sort(orders, (a, b) => Cmp(a.MerchantId, b.MerchantId, a.OrderId, b.OrderId));
        w.VarUInt((ulong)orders.Length);
        foreach (var k in orders)
        {
            w.Str(k.MerchantId); w.Str(k.OrderId); w.Day(baseDay, state.Orders[k]);
        }

        var buyers = state.Buyers.Keys.ToArray();
        Array.Sort(buyers, StringComparer.Ordinal);
        w.VarUInt((ulong)buyers.Length);
        foreach (var b in buyers)
        {
            var days = state.Buyers[b];
            w.Str(b); w.VarUInt((ulong)days.Count);
            foreach (var d in days) w.Day(baseDay, d);
        }

        var programs = state.Programs.Keys.ToArray();
        Array.Sort(programs, StringComparer.Ordinal);
        w.VarUInt((ulong)programs.Length);
        foreach (var p in programs)
        {
            var r = state.Programs[p];
            w.Str(p); w.Day(baseDay, r.FirstPublishDay); w.VarInt(r.LatestTimeMs); w.Str(r.LatestEventId); w.Str(r.DeveloperId);
        }

        return w.Output.WrittenSpan.ToArray();
    }

    public static WindowState Decode(ReadOnlySpan<byte> data)
    {
        if (data.Length < 10 || !data[..4].SequenceEqual(Magic))
            throw new InvalidDataException("Not a rollup window state (magic PRWS missing).");
        if (data[4] is not (Version or VersionWithoutActivity))
            throw new InvalidDataException($"Rollup window state version {data[4]} is not supported (this build reads versions {VersionWithoutActivity} and {Version}).");
        // A version-1 state knows only each user's last active day: the bitmap starts with that day alone,
        // so active retention over days before the upgrade reads low until a re-roll rebuilds the state.
        var withActivity = data[4] == Version;
        var state = new WindowState();
        var baseDay = BinaryPrimitives.ReadInt32LittleEndian(data.Slice(6, 4));
        if (data[5] == 1) state.AsOfDay = baseDay;
        else if (data[5] != 0) throw new InvalidDataException("Rollup window state: bad flag byte.");

        var r = new Reader(data[10..]);
        var n = r.Count();
        state.Users.EnsureCapacity(n);
        for (var i = 0; i < n; i++)
        {
            var u = r.Str();
            state.Users.Add(u, new UserWindow(r.Day(baseDay), r.Str(), r.Day(baseDay), withActivity ? r.VarUInt() : 1UL));
        }

        n = r.Count();
        state.UserPrograms.EnsureCapacity(n);
        for (var i = 0; i < n; i++)
        {
            var k = new UserProgramKey(r.Str(), r.Str());
            state.UserPrograms.Add(k, new UserWindow(r.Day(baseDay), r.Str(), r.Day(baseDay), withActivity ? r.VarUInt() : 1UL));
        }

        n = r.Count();
        state.Sessions.EnsureCapacity(n);
        for (var i = 0; i < n; i++)
        {
            var k = new SessionKey(r.Str(), r.Str(), r.Str());
            var day = r.Day(baseDay);
            var scene = (int)r.VarInt();
            state.Sessions.Add(k, new SessionInfo(day, scene, r.Str(), r.Str(), r.VarInt(), r.Str()));
        }

        n = r.Count();
        state.Orders.EnsureCapacity(n);
        for (var i = 0; i < n; i++)
        {
            var k = new OrderKey(r.Str(), r.Str());
            state.Orders.Add(k, r.Day(baseDay));
        }

        n = r.Count();
        for (var i = 0; i < n; i++)
        {
            var b = r.Str();
            var count = r.Count();
            var days = new List<int>(count);
            for (var j = 0; j < count; j++) days.Add(r.Day(baseDay));
            state.Buyers.Add(b, days);
        }

        n = r.Count();
        for (var i = 0; i < n; i++)
        {
            var p = r.Str();
            state.Programs.Add(p, new ProgramRegistration(r.Day(baseDay), r.VarInt(), r.Str(), r.Str()));
        }

        if (!r.AtEnd) throw new InvalidDataException("Rollup window state: trailing bytes after the last section.");
        return state;
    }

    private static int Cmp(string a1, string b1, string a2, string b2)
    {
        var c = string.CompareOrdinal(a1, b1);
        return c != 0 ? c : string.CompareOrdinal(a2, b2);
    }

    private static int Cmp(string a1, string b1, string a2, string b2, string a3, string b3)
    {
        var c = Cmp(a1, b1, a2, b2);
        return c != 0 ? c : string.CompareOrdinal(a3, b3);
    }

    internal sealed class Writer(ArrayBufferWriter<byte> output)
    {
        private readonly Dictionary<string, int> _strings = new(StringComparer.Ordinal);
        public ArrayBufferWriter<byte> Output { get; } = output;

        public void Raw(ReadOnlySpan<byte> bytes) => Output.Write(bytes);

        public void Byte(byte b)
        {
            Output.GetSpan(1)[0] = b;
            Output.Advance(1);
        }

        public void VarUInt(ulong v)
        {
            var span = Output.GetSpan(10);
            var i = 0;
            while (v >= 0x80)
            {
                span[i++] = (byte)(v | 0x80);
                v >>= 7;
            }
            span[i++] = (byte)v;
            Output.Advance(i);
        }

        public void VarInt(long v) => VarUInt((ulong)((v << 1) ^ (v >> 63)));

        public void Day(int baseDay, int day) => VarInt((long)baseDay - day);

        public void Str(string s)
        {
            if (_strings.TryGetValue(s, out var index))
            {
                VarUInt((ulong)index + 1);
                return;
            }
            _strings.Add(s, _strings.Count);
            VarUInt(0);
            var len = Encoding.UTF8.GetByteCount(s);
            VarUInt((ulong)len);
            Encoding.UTF8.GetBytes(s, Output.GetSpan(len));
            Output.Advance(len);
        }
    }

    internal ref struct Reader(ReadOnlySpan<byte> data)
    {
        private readonly ReadOnlySpan<byte> _data = data;
        private int _pos;
        private readonly List<string> _strings = [];

        public readonly bool AtEnd => _pos == _data.Length;

        public ulong VarUInt()
        {
            ulong v = 0;
            for (var shift = 0; shift < 64; shift += 7)
            {
                if (_pos >= _data.Length) throw Truncated();
                var b = _data[_pos++];
                v |= (ulong)(b & 0x7F) << shift;
                if (b < 0x80) return v;
            }
            throw new InvalidDataException("Rollup window state: varint too long.");
        }

        public long VarInt()
        {
            var u = VarUInt();
            return (long)(u >> 1) ^ -(long)(u & 1);
        }

        public int Count()
        {
            var n = VarUInt();
            if (n > int.MaxValue || n > (ulong)(_data.Length - _pos)) throw Truncated();
            return (int)n;
        }

        public int Day(int baseDay) => checked((int)(baseDay - VarInt()));

        public byte Flags()
        {
            if (_pos >= _data.Length) throw Truncated();
            return _data[_pos++];
        }

        public string Str()
        {
            var r = VarUInt();
            if (r != 0)
            {
                if (r > (ulong)_strings.Count) throw new InvalidDataException("Rollup window state: string reference out of range.");
                return _strings[(int)r - 1];
            }
            var len = Count();
            var s = Encoding.UTF8.GetString(_data.Slice(_pos, len));
            _pos += len;
            _strings.Add(s);
            return s;
        }

        private static InvalidDataException Truncated() => new("Rollup window state is truncated.");
    }
}
