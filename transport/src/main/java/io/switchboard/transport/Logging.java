package io.switchboard.transport;

/**
 * Logging through {@link System.Logger}: one line per record with time, level and logger name, then the stack trace
 * of an error. Without another logging back end on the class path, {@code System.Logger} writes through
 * {@code java.util.logging} to stderr; {@link #configure()} gives it the one-line format below unless the user chose
 * one ({@code -Djava.util.logging.SimpleFormatter.format=...} or a logging.properties file):
 * <pre>2026-11-30T09:12:03.117 INFO switchboard.broker: peer 3 (pricer, pid 4242) gone</pre>
 * Logging is for cold paths only (start, stop, connect, errors); the hot path counts.
 */
public final class Logging
{
    /** The format given to java.util.logging's SimpleFormatter unless one is set. */
    public static final String FORMAT = "%1$tFT%1$tT.%1$tL %4$s %3$s: %5$s%6$s%n";

    private static final String FORMAT_PROPERTY = "java.util.logging.SimpleFormatter.format";

    private Logging()
    {
    }

    /**
     * Give java.util.logging the one-line format, if no format was chosen. Call first thing in a {@code main}: the
     * format is read when the first handler is made.
     */
    public static void configure()
    {
        if (null == System.getProperty(FORMAT_PROPERTY) && null == System.getProperty("java.util.logging.config.file"))
        {
            System.setProperty(FORMAT_PROPERTY, FORMAT);
        }
    }

    /**
     * A logger for this name (a service, a component such as {@code switchboard.broker}).
     *
     * @param name of the logger.
     * @return the logger.
     */
    public static System.Logger logger(final String name)
    {
        configure();
        return System.getLogger(name);
    }
}
