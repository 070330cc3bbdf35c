package io.switchboard.broker.cli;

import picocli.CommandLine;

import java.util.concurrent.TimeUnit;

/** A duration given in seconds on the command line: a positive decimal number. */
final class Seconds
{
    final long nanos;

    Seconds(final long nanos)
    {
        this.nanos = nanos;
    }

    static Seconds parse(final String text)
    {
        final double value;
        try
        {
            value = Double.parseDouble(text.trim());
        }
        catch (final NumberFormatException ex)
        {
            throw new CommandLine.TypeConversionException("expected a number of seconds (e.g. 2 or 0.5), found '" +
                text + "'");
        }
        if (!(value > 0) || value > 365L * 24 * 3600)
        {
            throw new CommandLine.TypeConversionException("expected a positive number of seconds up to a year, " +
                "found '" + text + "'");
        }
        return new Seconds((long)(value * 1e9));
    }

    static Seconds ofSeconds(final long seconds)
    {
        return new Seconds(TimeUnit.SECONDS.toNanos(seconds));
    }

    long millis()
    {
        return Math.max(1, TimeUnit.NANOSECONDS.toMillis(nanos));
    }

    String text()
    {
        return nanos % 1_000_000_000L == 0 ? (nanos / 1_000_000_000L) + " s" : millis() + " ms";
    }
}
