package io.switchboard.broker.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import io.switchboard.codec.schema.MessageSchema;
import io.switchboard.codec.wire.ServiceMode;
import io.switchboard.transport.RequestHandler;
import io.switchboard.transport.RouteTable;
import io.switchboard.transport.ServiceDefinition;
import io.switchboard.transport.StreamHandler;

import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * What a REGISTER frame asks for (a name, exclusive or shared, message types or none), checked, and the Java
 * service definition through which the gateway serves it.
 * <p>
 * A shared name Java peers already serve with an SBE schema is joined on their terms: the same schema and template
 * ids, the message types adopted when the frame names none, and refused, naming both lists, when it names others.
 * <p>
 * Not thread-safe: built and used on the gateway's duty cycle.
 */
final class SocketRegistration
{
    final String name;
    final boolean shared;
    final Set<String> types = new LinkedHashSet<>();
    /** What is wrong with the frame or the join, or null. */
    String problem;
    /** The schema of a name joined from Java peers, or null for opaque JSON. */
    SchemaReplies schema;

    private SocketRegistration(final String name, final boolean shared)
    {
        this.name = name;
        this.shared = shared;
    }

    /**
     * Check a REGISTER frame.
     *
     * @param correlationId of the frame, or null.
     * @param body of the frame.
     * @return the registration; {@link #problem} says what is wrong when the frame is refused.
     */
    static SocketRegistration parse(final String correlationId, final JsonNode body)
    {
        final JsonNode nameNode = body.get("service");
        final String name = null != nameNode && nameNode.isTextual() ? nameNode.asText() : null;
        final String mode = body.path("mode").asText("exclusive");
        final SocketRegistration registration = new SocketRegistration(name, "shared".equals(mode));
        if (null == correlationId || null == name)
        {
            return registration.refuse("REGISTER needs correlation_id and service");
        }
        if (!"exclusive".equals(mode) && !"shared".equals(mode))
        {
            return registration.refuse("mode must be \"exclusive\" or \"shared\", found \"" + mode + "\"");
        }
        final String nameProblem = ServiceDefinition.validateName(name);
        if (null != nameProblem)
        {
            return registration.refuse("invalid service name '" + name + "': " + nameProblem);
        }
        final JsonNode typesNode = body.get("message_types");
        if (null != typesNode && !typesNode.isNull())
        {
            if (!typesNode.isArray())
            {
                return registration.refuse("message_types must be an array");
            }
            for (final JsonNode t : typesNode)
            {
                final String problem = t.isTextual() ? ServiceDefinition.validateName(t.asText()) : "not a string";
                if (null != problem)
                {
                    return registration.refuse("message type " + t + ": " + problem);
                }
                registration.types.add(t.asText());
            }
        }
        return registration;
    }

    /**
     * The Java service definition that serves this registration: joined on the Java peers' terms when they share
     * the name with an SBE schema, else opaque JSON for the types named (or any type when none).
     *
     * @param javaServed the name as the gateway client's route table has it now, or null when nobody serves it.
     * @param javaIr the schema IR of that service as the broker sent it, or null when it has none.
     * @param transcoders of the schemas met.
     * @param onRequest handles the requests.
     * @param onStream handles the streams.
     * @return the definition, or null with {@link #problem} set when the join is refused.
     */
    ServiceDefinition definition(
        final RouteTable.Route javaServed,
        final byte[] javaIr,
        final Transcoders transcoders,
        final RequestHandler onRequest,
        final StreamHandler onStream)
    {
        final ServiceDefinition definition = ServiceDefinition.named(name);
        if (shared)
        {
            definition.shared();
        }
        if (shared && null != javaServed && ServiceMode.SHARED == javaServed.mode() && null != javaIr)
        {
            final Set<String> javaTypes = javaServed.messageTypes().keySet();
            if (!types.isEmpty() && !types.equals(javaTypes))
            {
                refuse("shared service '" + name + "' is served by Java peers with message types " + javaTypes +
                    ", this connection offered " + types);
                return null;
            }
            types.clear();
            types.addAll(javaTypes);
            try
            {
                schema = new SchemaReplies(transcoders.of(javaIr));
                definition.schema(MessageSchema.fromIr(javaIr));
                for (final Map.Entry<String, Integer> type : javaServed.messageTypes().entrySet())
                {
                    if (type.getValue() < 0)
                    {
                        definition.onOpaque(type.getKey(), onRequest, onStream);
                    }
                    else
                    {
                        definition.onRequestOrStream(type.getKey(), onRequest, onStream);
                    }
                }
            }
            catch (final RuntimeException ex)
            {
                refuse("cannot join shared service '" + name + "' served by Java peers: its schema: " + ex.getMessage());
                return null;
            }
        }
        else if (types.isEmpty())
        {
            definition.onOpaque(ServiceDefinition.ANY_MESSAGE_TYPE, onRequest, onStream);
        }
        else
        {
            for (final String type : types)
            {
                definition.onOpaque(type, onRequest, onStream);
            }
        }
        return definition;
    }

    private SocketRegistration refuse(final String problem)
    {
        this.problem = problem;
        return this;
    }
}
