package io.switchboard.broker.gateway;

/**
 * A token bucket kept in nanoseconds of credit: each frame costs {@code 1 s / rate}, the credit refills with
 * elapsed time and is capped at {@code burst} frames' worth. No allocation, no floating point.
 * <p>
 * Not thread-safe: owned by one {@link GatewaySession} on the gateway's duty cycle.
 */
final class TokenBucket
{
    private final long costNs;
    private final long capacityNs;
    private long creditNs;
    private long lastNs;

    /**
     * A full bucket.
     *
     * @param ratePerSecond at which the bucket refills, 1 to {@link GatewayConfiguration#MAX_RATE_LIMIT}.
     * @param burst         frames the full bucket holds.
     * @param nowNs         the clock ({@link System#nanoTime()}) at creation.
     */
    TokenBucket(final int ratePerSecond, final int burst, final long nowNs)
    {
        this.costNs = 1_000_000_000L / ratePerSecond;
        this.capacityNs = costNs * burst;
        this.creditNs = capacityNs;
        this.lastNs = nowNs;
    }

    /**
     * Take one token if there is one.
     *
     * @param nowNs the clock ({@link System#nanoTime()}) of this duty cycle.
     * @return true if taken; false if the frame is over the limit.
     */
    boolean tryAcquire(final long nowNs)
    {
        final long elapsedNs = nowNs - lastNs;
        lastNs = nowNs;
        if (elapsedNs > 0)
        {
            creditNs = elapsedNs >= capacityNs - creditNs ? capacityNs : creditNs + elapsedNs;
        }
        if (creditNs >= costNs)
        {
            creditNs -= costNs;
            return true;
        }
        return false;
    }
}
