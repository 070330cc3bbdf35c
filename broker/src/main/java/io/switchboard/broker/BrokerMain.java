package io.switchboard.broker;

import io.switchboard.broker.access.StartRefusedException;
import org.agrona.CloseHelper;

import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;
import java.util.concurrent.CountDownLatch;

/**
 * {@code switchboard broker}: run the broker until Ctrl-C or SIGTERM, then shut down cleanly.
 */
public final class BrokerMain
{
    private static final String USAGE = String.join("\n",
        "usage: switchboard broker [options]",
        "",
        "Run the Switchboard broker: an embedded Aeron media driver plus the conductor that Java peers",
        "register with. Runs until Ctrl-C (or SIGTERM), then removes its sockets and driver directory.",
        "",
        "options:",
        "  --demo                 also start the demo services (calculator, countdown, kv_store, price_feed)",
        "  --socket-dir DIR       directory of the broker's sockets (default: $XDG_RUNTIME_DIR/switchboard,",
        "                         else /tmp/switchboard-<uid>; SWITCHBOARD_SOCKET's directory if set)",
        "  --socket PATH          gateway socket path, exactly; its directory also holds control.sock",
        "  --aeron-dir DIR        media driver directory (default: $XDG_RUNTIME_DIR/switchboard/aeron,",
        "                         else /dev/shm/switchboard-<user>/aeron)",
        "  --external-driver      attach to a media driver already running in --aeron-dir instead of embedding one",
        "  --liveness-timeout-ms N  drop a peer silent for this long (default 10000)",
        "  --rate-limit N         per gateway connection, at most N REQUEST/PUBLISH/SUBSCRIBE frames a second;",
        "                         more are answered RATE_LIMITED and the connection stays open (default: off)",
        "  --rate-limit-burst N   frames a connection may send at once after being idle (default: N of --rate-limit)",
        "  --frame-timeout-ms N   close a socket connection that leaves a frame unfinished this long (default 10000)",
        "  --drain-timeout-ms N   on shutdown, time in-flight gateway calls get to finish before they are",
        "                         answered SHUTTING_DOWN (default 2000); new requests get SHUTTING_DOWN at once",
        "  --allow-user NAME|UID  also accept gateway peers running as this user (repeatable); checked with",
        "                         SO_PEERCRED. Any --allow-* makes the socket directory 0711 and the socket 0666",
        "  --allow-group NAME|GID also accept gateway peers whose primary group is this one (repeatable)",
        "                         (by default only the broker's own user: directory 0700, socket 0600)",
        "  -h, --help             show this help",
        "",
        "Every folder it uses (socket directory, media driver directory's parent) must be a directory of its",
        "user's, not a link, writable by no one else; a missing one is created 0700. It holds broker.lock in the",
        "socket directory (and <aeron-dir>.lock beside the driver directory) for its life.",
        "",
        "bounds on what clients can make the broker hold (JAVA_OPTS=-Dproperty=value; over a bound a typed error,",
        "counted in stats, logged once per connection):",
        "  switchboard.gateway.max.queued.push.bytes        pushes queued per connection      4 MiB (then dropped, counted)",
        "  switchboard.gateway.max.queued.pushes            pushes queued per connection      4096",
        "  switchboard.gateway.max.queued.bytes             replies+pushes per connection     64 MiB (a reply over it",
        "                                                   closes the connection, counted)",
        "  switchboard.gateway.max.total.queued.bytes       all connections' queues           256 MiB",
        "  switchboard.gateway.max.requests.in.flight       per connection                    1024 (RATE_LIMITED)",
        "  switchboard.gateway.max.total.requests.in.flight all connections                   65536 (RATE_LIMITED)",
        "  switchboard.gateway.max.patterns                 patterns per connection           256 (INVALID_REQUEST)",
        "  switchboard.gateway.max.total.read.buffer.bytes  unfinished frames, all connections 256 MiB (PAYLOAD_TOO_LARGE)",
        "  switchboard.control.connect.timeout.ms           a Java peer's time to send Connect 5000",
        "  switchboard.control.max.message.length           control message                   4 MiB (PAYLOAD_TOO_LARGE)",
        "  switchboard.max.services / .per.peer             service names                     10000 / 1000",
        "  switchboard.max.schema.bytes / .per.peer         schema IR kept                    64 MiB / 16 MiB",
        "  switchboard.max.patterns.per.peer                a Java peer's patterns            10000",
        "  switchboard.max.retained.subjects                subjects with a retained value    100000 (PAYLOAD_TOO_LARGE)",
        "  switchboard.max.retained.bytes                   retained values, all subjects     64 MiB (PAYLOAD_TOO_LARGE)",
        "                                                   (one retained value: at most the control message length)",
        "The launcher runs the broker with -Xmx1g -XX:MaxDirectMemorySize=512m -XX:+ExitOnOutOfMemoryError.",
        "",
        "exit status: 0 stopped cleanly (Ctrl-C, SIGTERM), 1 failed to start, 2 usage error, 3 refused to start (a folder not its",
        "own, another broker holding the folders, not enough space for the media driver; also the JVM's own status",
        "when -XX:+ExitOnOutOfMemoryError ends it, after \"Terminating due to java.lang.OutOfMemoryError\"), 70 an",
        "agent thread died or raised an Error: the process ends at once so that a supervisor can restart it.",
        "");

    private BrokerMain()
    {
    }

    /**
     * Entry point.
     *
     * @param args command-line arguments.
     */
    public static void main(final String[] args)
    {
        final Broker.Context ctx = new Broker.Context();
        boolean demo = false;
        try
        {
            for (int i = 0; i < args.length; i++)
            {
                switch (args[i])
                {
                    case "-h":
                    case "--help":
                        System.out.print(USAGE);
                        return;
                    case "--demo":
                        demo = true;
                        break;
                    case "--socket-dir":
                        ctx.socketDir(Paths.get(value(args, ++i, "--socket-dir")));
                        break;
                    case "--socket":
                        final Path socket = Paths.get(value(args, ++i, "--socket")).toAbsolutePath();
                        ctx.socketDir(socket.getParent()).gatewaySocket(socket);
                        break;
                    case "--aeron-dir":
                        ctx.aeronDirectoryName(value(args, ++i, "--aeron-dir"));
                        break;
                    case "--external-driver":
                        ctx.embeddedDriver(false);
                        break;
                    case "--liveness-timeout-ms":
                        ctx.livenessTimeoutMs(Long.parseLong(value(args, ++i, "--liveness-timeout-ms")));
                        break;
                    case "--rate-limit":
                        ctx.gatewayContext().rateLimit(Integer.parseInt(value(args, ++i, "--rate-limit")));
                        break;
                    case "--rate-limit-burst":
                        ctx.gatewayContext().rateLimitBurst(Integer.parseInt(value(args, ++i, "--rate-limit-burst")));
                        break;
                    case "--frame-timeout-ms":
                        ctx.gatewayContext()
                            .incompleteFrameTimeoutMs(Long.parseLong(value(args, ++i, "--frame-timeout-ms")));
                        break;
                    case "--drain-timeout-ms":
                        ctx.gatewayContext()
                            .shutdownDrainTimeoutMs(Long.parseLong(value(args, ++i, "--drain-timeout-ms")));
                        break;
                    case "--allow-user":
                        ctx.allowUser(value(args, ++i, "--allow-user"));
                        break;
                    case "--allow-group":
                        ctx.allowGroup(value(args, ++i, "--allow-group"));
                        break;
                    default:
                        throw new IllegalArgumentException("unknown option '" + args[i] + "'");
                }
            }
        }
        catch (final IllegalArgumentException ex)
        {
            System.err.println("switchboard broker: " + ex.getMessage());
            System.err.print(USAGE);
            System.exit(2);
            return;
        }

        final Broker broker;
        try
        {
            broker = Broker.launch(ctx);
        }
        catch (final StartRefusedException ex)
        {
            System.err.println("switchboard broker: refused to start: " + ex.getMessage());
            System.exit(StartRefusedException.EXIT_CODE);
            return;
        }
        catch (final RuntimeException ex)
        {
            System.err.println("switchboard broker: cannot start: " + ex.getMessage());
            System.exit(1);
            return;
        }

        final List<AutoCloseable> plugins = new ArrayList<>();
        if (demo)
        {
            for (final BrokerPlugin plugin : ServiceLoader.load(BrokerPlugin.class))
            {
                if ("demo".equals(plugin.name()))
                {
                    plugins.add(plugin.start(broker));
                }
            }
            if (plugins.isEmpty())
            {
                System.err.println("switchboard broker: --demo given but the demo services are not on the class path");
                broker.close();
                System.exit(1);
                return;
            }
        }

        final CountDownLatch stopped = new CountDownLatch(1);
        final CountDownLatch closed = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() ->
        {
            stopped.countDown();
            try
            {
                closed.await();
            }
            catch (final InterruptedException ignore)
            {
                Thread.currentThread().interrupt();
                return;
            }
            // a clean stop on SIGTERM or Ctrl-C is a success: status 0, not the JVM's 128+signal, so that a
            // supervisor tells it from a crash (a dead agent exits with Broker.FATAL_EXIT_STATUS)
            Runtime.getRuntime().halt(0);
        }, "switchboard-shutdown"));

        System.out.println("switchboard: broker ready");
        System.out.println("switchboard:   gateway socket " + ctx.gatewaySocket() + " (PROTOCOL.md, any language)");
        System.out.println("switchboard:   control socket " + ctx.controlSocket() + " (Java peers)");
        System.out.println("switchboard:   media driver   " + ctx.aeronDirectoryName() +
            (ctx.embeddedDriver() ? " (embedded)" : " (external)"));
        if (demo)
        {
            System.out.println("switchboard:   demo services  calculator, countdown, kv_store, price_feed");
        }
        System.out.println("switchboard: press Ctrl-C to stop");
        System.out.flush();

        try
        {
            stopped.await();
        }
        catch (final InterruptedException ignore)
        {
            Thread.currentThread().interrupt();
        }
        System.out.println("switchboard: shutting down");
        for (int i = plugins.size() - 1; i >= 0; i--)
        {
            CloseHelper.quietClose(plugins.get(i));
        }
        broker.close();
        System.out.println("switchboard: stopped");
        System.out.flush();
        closed.countDown();
    }

    private static String value(final String[] args, final int index, final String option)
    {
        if (index >= args.length)
        {
            throw new IllegalArgumentException(option + " needs a value");
        }
        return args[index];
    }
}
