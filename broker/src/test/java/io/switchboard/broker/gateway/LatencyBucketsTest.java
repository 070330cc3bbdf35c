package io.switchboard.broker.gateway;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LatencyBucketsTest
{
    @Test
    void shouldPutEveryLatencyInTheBucketWhoseBoundsHoldIt()
    {
        for (long micros = 0; micros < 5_000_000; micros += 1 + micros / 7)
        {
            final int bucket = LatencyBuckets.bucket(micros);
            assertTrue(LatencyBuckets.lowerBound(bucket) <= micros, micros + " at or above its bucket's lower bound");
            assertTrue(micros < LatencyBuckets.lowerBound(bucket + 1), micros + " below the next bucket's");
        }
    }

    @Test
    void shouldMapEachLowerBoundBackToItsBucketAndKeepBucketsUnder20PercentWide()
    {
        for (int bucket = 0; bucket < LatencyBuckets.COUNT; bucket++)
        {
            assertEquals(bucket, LatencyBuckets.bucket(LatencyBuckets.lowerBound(bucket)));
            if (bucket >= 4 && bucket + 1 < LatencyBuckets.COUNT)
            {
                final double width = (double)LatencyBuckets.lowerBound(bucket + 1) / LatencyBuckets.lowerBound(bucket);
                assertTrue(width <= 1.25, "bucket " + bucket + " is " + width + " wide");
            }
        }
        assertEquals(LatencyBuckets.COUNT - 1, LatencyBuckets.bucket(Long.MAX_VALUE / 1000), "the last takes the rest");
    }
}
