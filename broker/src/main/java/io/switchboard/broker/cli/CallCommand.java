package io.switchboard.broker.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import static io.switchboard.broker.cli.SwitchboardCli.ExitCodes;

@Command(name = "call", usageHelpWidth = 110,
    description = "Request-response: send one request and print the reply's payload, one line of JSON.",
    footer = {"", "--json prints the whole RESPONSE frame instead: " +
        "{\"correlation_id\":\"cli-1\",\"success\":true,\"payload\":{...}}", "", ExitCodes.TABLE})
final class CallCommand extends GatewayCommand
{
    @Mixin
    RequestArguments request;

    @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "30",
        description = "how long the service has to answer (default: ${DEFAULT-VALUE}); then TIMEOUT, exit 6")
    Seconds timeout;

    private JsonNode body;

    @Override
    void check()
    {
        body = request.body(cli.in);
    }

    @Override
    int run(final GatewayConnection connection)
    {
        return cli.request(connection, request.service, request.type, body, false, timeout, null);
    }
}
