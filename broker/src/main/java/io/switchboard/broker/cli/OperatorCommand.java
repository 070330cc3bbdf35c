package io.switchboard.broker.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * A command for operators: reads the broker's files ({@link BrokerFiles}) and, when the broker runs, asks its gateway
 * (STATS); refreshes every {@code --interval} seconds, {@code --count} times (0: until interrupted).
 */
abstract class OperatorCommand implements Callable<Integer>
{
    @CommandLine.Mixin
    HelpOption help;

    @ParentCommand
    SwitchboardCli cli;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** The connection to the gateway, null when no broker answered. */
    GatewayConnection connection;

    @Option(names = "--interval", paramLabel = "SECONDS", defaultValue = "1",
        description = "seconds between refreshes (default: ${DEFAULT-VALUE})")
    Seconds interval;

    @Option(names = "--count", paramLabel = "N", defaultValue = "0",
        description = "stop after N refreshes (default: until interrupted)")
    int count;

    Path socketPath()
    {
        return null == cli.socket ? SwitchboardCli.defaultSocket() : cli.socket;
    }

    /** Whether to refresh at all (stat refreshes only with --watch). */
    boolean repeats()
    {
        return true;
    }

    @Override
    public final Integer call() throws Exception
    {
        if (count < 0)
        {
            throw new SwitchboardCli.UsageException("--count must be 0 or more, found " + count);
        }
        final BrokerFiles files = BrokerFiles.of(socketPath());
        try
        {
            connection = cli.connect();
        }
        catch (final SwitchboardCli.NoBrokerException ex)
        {
            if (needsBroker())
            {
                cli.err.println("switchboard: " + ex.getMessage());
                return SwitchboardCli.ExitCodes.NO_BROKER;
            }
        }
        try
        {
            final boolean terminal = null != System.console() && !cli.json;
            for (int n = 1; ; n++)
            {
                final JsonNode stats = null == connection ? null :
                    BrokerFiles.gatewayStats(cli, connection, TimeUnit.SECONDS.toNanos(10), wantsConnections());
                if (terminal && repeats() && n > 1)
                {
                    cli.out.print("\033[H\033[2J");
                }
                refresh(files, stats, n);
                cli.out.flush();
                if (!repeats() || done(n))
                {
                    return SwitchboardCli.EXIT_OK;
                }
                final long until = System.nanoTime() + interval.nanos;
                for (long left; (left = until - System.nanoTime()) > 0; )
                {
                    LockSupport.parkNanos(left);
                }
            }
        }
        finally
        {
            if (null != connection)
            {
                connection.close();
            }
        }
    }

    /** Whether STATS should list every connection ({@code connections_detail}). */
    boolean wantsConnections()
    {
        return false;
    }

    /** Whether the last refresh was printed. */
    boolean done(final int n)
    {
        return count > 0 && n >= count;
    }

    /** Whether the command fails (exit 3) without a broker to ask. */
    boolean needsBroker()
    {
        return true;
    }

    /**
     * Print one refresh.
     *
     * @param files of the broker.
     * @param stats the gateway's STATS payload, null when there is no broker to ask.
     * @param n the refresh's number, from 1.
     */
    abstract void refresh(BrokerFiles files, JsonNode stats, int n) throws Exception;
}
