namespace Pipeline.Core.Import;

/// <summary>
/// Reads lines of UTF-8 text from a stream with a fixed buffer: a line is handed out as a slice of the
/// buffer, and a line longer than the limit is skipped to its end without being kept, so memory stays
/// bounded whatever the file holds. Lines end with <c>\n</c> (a <c>\r</c> before it is dropped); the
/// last line needs no newline; a UTF-8 byte-order mark at the start of the file is skipped.
/// </summary>
internal sealed class LineReader
{
    private readonly Stream _stream;
    private readonly int _maxLineBytes;
    private readonly byte[] _buffer;
    private int _start, _end;
    private bool _eof;
    private long _line;

    public LineReader(Stream stream, int maxLineBytes = ImportLimits.MaxItemBytes)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLineBytes, 1);
        _stream = stream;
        _maxLineBytes = maxLineBytes;
        // Room for the longest line, its \r\n, and as much read-ahead again.
        _buffer = new byte[2 * (maxLineBytes + 2)];
    }

    /// <summary>
    /// The next line: its 1-based number and its bytes (without the terminator; valid until the next call),
    /// or, when it is longer than the limit, its length in <paramref name="tooLongBytes"/> and no bytes.
    /// False at the end of the stream.
    /// </summary>
    public bool TryReadLine(out long number, out ReadOnlyMemory<byte> line, out long tooLongBytes)
    {
        line = default;
        tooLongBytes = 0;
        number = 0;
        while (true)
        {
            var pending = _buffer.AsSpan(_start, _end - _start);
            var newline = pending.IndexOf((byte)'\n');
            if (newline >= 0 && newline <= _maxLineBytes + 1)
            {
                number = ++_line;
                Take(newline, out line, out tooLongBytes);
                _start += newline + 1;
                return true;
            }
            if (pending.Length > _maxLineBytes + 1)
            {
                // No end within the limit: count the line to its end, keeping nothing.
                number = ++_line;
                tooLongBytes = SkipLine();
                return true;
            }
            if (_eof)
            {
                if (pending.Length == 0) return false;
                number = ++_line;
                Take(pending.Length, out line, out tooLongBytes);
                _start = _end;
                return true;
            }
            Fill();
        }
    }

    /// <summary>The line of <paramref name="length"/> bytes at the start of what is pending, without a trailing \r (nor a byte-order mark on line 1).</summary>
    private void Take(int length, out ReadOnlyMemory<byte> line, out long tooLongBytes)
    {
        var start = _start;
        if (length > 0 && _buffer[start + length - 1] == (byte)'\r') length--;
        if (_line == 1 && _buffer.AsSpan(start, length).StartsWith("\uFEFF"u8))
        {
            start += 3;
            length -= 3;
        }
        line = length > _maxLineBytes ? default : _buffer.AsMemory(start, length);
        tooLongBytes = length > _maxLineBytes ? length : 0;
    }

    private long SkipLine()
    {
        long length = 0;
        while (true)
        {
            var pending = _buffer.AsSpan(_start, _end - _start);
            var newline = pending.IndexOf((byte)'\n');
            if (newline >= 0)
            {
                length += newline;
                _start += newline + 1;
                return length;
            }
            length += pending.Length;
            _start = _end;
            if (_eof) return length;
            Fill();
        }
    }

    private void Fill()
    {
        if (_start > 0)
        {
            _buffer.AsSpan(_start, _end - _start).CopyTo(_buffer);
            _end -= _start;
            _start = 0;
        }
        var read = _stream.Read(_buffer, _end, _buffer.Length - _end);
        if (read == 0) _eof = true;
        _end += read;
    }
}

/// <summary>
/// NDJSON of events: one wire-format event object per line. Each line is checked to be one JSON
/// object before it joins a batch, so a line that is not JSON, or too long, is rejected on its own
/// (with its line number) and never makes a batch of valid events fail. Blank lines are skipped.
/// </summary>
internal sealed class NdjsonReader(Stream stream, int maxLineBytes = ImportLimits.MaxItemBytes) : IImportReader
{
    private readonly LineReader _lines = new(stream, maxLineBytes);

    /// <summary>Lines of whitespace only, skipped.</summary>
    public long BlankLines { get; private set; }

    public bool TryRead(out ImportItem item)
    {
        while (_lines.TryReadLine(out var number, out var line, out var tooLong))
        {
            if (tooLong > 0)
            {
                item = ImportItem.Rejected(number, -1, ImportCodes.LineTooLong,
                    $"The line is {tooLong} bytes; lines longer than {maxLineBytes} bytes are not read (an event is at most {Ingest.IngestLimits.MaxEventBytes} bytes of JSON).");
                return true;
            }
            if (ImportScan.Check(line.Span, "The line", out var blank, out var idHash) is { } problem)
            {
                item = ImportItem.Rejected(number, -1, problem.Code, problem.Message);
                return true;
            }
            if (blank)
            {
                BlankLines++;
                continue;
            }
            item = ImportItem.Event(number, -1, line, idHash);
            return true;
        }
        item = default;
        return false;
    }
}
