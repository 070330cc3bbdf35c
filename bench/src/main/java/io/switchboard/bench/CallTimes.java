package io.switchboard.bench;

import java.io.IOException;
import java.util.Arrays;

/**
 * One call at a time, timed, as the large-message harnesses measure it: a warm-up by time (1 s, or half the measured
 * time if that is shorter; at least a few calls), then calls until the measured time is over, each timed alone. The
 * figure is the median call (a call that waits for a parked thread's wake-up or a GC moves a mean, not a median), the
 * mean kept beside it. Warming up by a count did not do: five calls of 1 MiB left the fragmenting and reassembling
 * code to the interpreter and the JIT for the first part of the measured run, and the means swung 2-3x from run to
 * run.
 */
final class CallTimes
{
    private static final int MIN_WARM_UP_CALLS = 5;
    private static final int KEPT = 1 << 16; // the last 65,536 calls: a median over them, 512 KiB

    /** One call, made and answered. */
    @FunctionalInterface
    interface Call
    {
        /**
         * @param measured false during the warm-up.
         * @throws IOException if the call fails.
         */
        void call(boolean measured) throws IOException;
    }

    /** What {@link #measure(long, Call)} found. */
    static final class Result
    {
        final double medianUs;
        final double meanUs;
        final long calls;

        private Result(final double medianUs, final double meanUs, final long calls)
        {
            this.medianUs = medianUs;
            this.meanUs = meanUs;
            this.calls = calls;
        }
    }

    private CallTimes()
    {
    }

    /**
     * How long to warm up for a measured time.
     *
     * @param measureNs the measured time.
     * @return 1 s, or half the measured time if that is shorter.
     */
    static long warmUpNs(final long measureNs)
    {
        return Math.min(measureNs / 2, 1_000_000_000L);
    }

    /**
     * Warm up, then time calls one at a time.
     *
     * @param measureNs how long to measure after the warm-up.
     * @param call      the call.
     * @return the median and mean call, and how many were measured.
     * @throws IOException if a call fails.
     */
    static Result measure(final long measureNs, final Call call) throws IOException
    {
        final long warmUpStart = System.nanoTime();
        final long warmUpNs = warmUpNs(measureNs);
        for (int i = 0; i < MIN_WARM_UP_CALLS || System.nanoTime() - warmUpStart < warmUpNs; i++)
        {
            call.call(false);
        }
        final long[] times = new long[KEPT];
        int calls = 0;
        final long start = System.nanoTime();
        long now = start;
        do
        {
            final long before = now;
            call.call(true);
            now = System.nanoTime();
            times[calls & (KEPT - 1)] = now - before;
            calls++;
        }
        while (now - start < measureNs);
        final long[] kept = Arrays.copyOf(times, Math.min(calls, KEPT));
        Arrays.sort(kept);
        return new Result(kept[kept.length / 2] / 1e3, (now - start) / 1e3 / calls, calls);
    }
}
