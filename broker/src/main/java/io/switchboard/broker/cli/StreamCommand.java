package io.switchboard.broker.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.switchboard.codec.frame.FrameType;
import io.switchboard.transport.Configuration;
import io.switchboard.transport.TrustedDirectory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.ScopeType;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

import static io.switchboard.broker.cli.SwitchboardCli.*;

@Command(name = "stream", usageHelpWidth = 110,
    description = "Request-stream: print each item's payload, one line of JSON each, until the stream ends.",
    footer = {"", "--json prints every STREAM frame whole, the final one included: " +
        "{\"correlation_id\":\"cli-1\",\"sequence\":0,\"is_final\":false,\"payload\":{...}}", "",
        ExitCodes.TABLE})
final class StreamCommand extends GatewayCommand
{
    @Parameters(index = "0", paramLabel = "SERVICE", description = "the service to ask")
    String service;

    @Parameters(index = "1", paramLabel = "TYPE", description = "its message type")
    String type;

    @Parameters(index = "2..*", paramLabel = "PAYLOAD",
        description = "one JSON document, '-' (read from stdin), or key=value / key:=json pairs (none: null)")
    List<String> payload = new ArrayList<>();

    @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "30",
        description = "the longest wait for the next item (default: ${DEFAULT-VALUE}); the broker ends the " +
            "stream with TIMEOUT (exit 6) when the service is silent this long")
    Seconds timeout;

    @Option(names = "--deadline", paramLabel = "SECONDS",
        description = "cap on the whole stream (default: none): when it passes the stream is cancelled and " +
            "the tool exits 6 (TIMEOUT)")
    Seconds deadline;

    private JsonNode body;

    @Override
    void check()
    {
        body = payload(payload, cli.in);
    }

    @Override
    int run(final GatewayConnection connection)
    {
        return cli.request(connection, service, type, body, true, timeout, deadline);
    }
}
