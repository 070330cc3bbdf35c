package io.switchboard.codec.frame;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

final class RecordingHandler implements FrameHandler
{
    record Frame(int version, FrameType type, FrameFormat format, byte[] payload)
    {
    }

    final List<Frame> frames = new ArrayList<>();
    ErrorCode fatal;
    String reason;
    int fatalCount;

    public void onFrame(
        final int version, final FrameType type, final FrameFormat format, final byte[] payload, final int offset,
        final int length)
    {
        frames.add(new Frame(version, type, format, Arrays.copyOfRange(payload, offset, offset + length)));
    }

    public void onFatalError(final ErrorCode code, final String reason)
    {
        fatal = code;
        this.reason = reason;
        fatalCount++;
    }
}
