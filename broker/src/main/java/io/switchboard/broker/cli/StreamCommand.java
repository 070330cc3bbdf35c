package io.switchboard.broker.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import static io.switchboard.broker.cli.SwitchboardCli.ExitCodes;

@Command(name = "stream", usageHelpWidth = 110,
    description = "Request-stream: print each item's payload, one line of JSON each, until the stream ends.",
    footer = {"", "--json prints every STREAM frame whole, the final one included: " +
        "{\"correlation_id\":\"cli-1\",\"sequence\":0,\"is_final\":false,\"payload\":{...}}", "",
        ExitCodes.TABLE})
final class StreamCommand extends GatewayCommand
{
    @Mixin
    RequestArguments request;

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
        body = request.body(cli.in);
    }

    @Override
    int run(final GatewayConnection connection)
    {
        return cli.request(connection, request.service, request.type, body, true, timeout, deadline);
    }
}
