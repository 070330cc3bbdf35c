package io.switchboard.transport;

import io.switchboard.codec.schema.MessageSchema;
import io.switchboard.codec.wire.ServiceMode;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * What a service offers: its name, how the name is held, its SBE schema and a handler per message type.
 * <p>
 * Built once on a cold path, then handed to {@link Switchboard#serve(ServiceDefinition)}.
 */
public final class ServiceDefinition
{
    /** Template id given to opaque message types: JSON bytes passed through untouched. */
    public static final int OPAQUE_TEMPLATE_ID = -1;

    /** Message-type name that stands for any type: the service takes whatever callers send, as opaque JSON. */
    public static final String ANY_MESSAGE_TYPE = "*";

    /** One handled message type. */
    static final class Handler
    {
        final String messageType;
        final int templateId;
        final RequestHandler requestHandler;
        final StreamHandler streamHandler;

        Handler(final String messageType, final int templateId, final RequestHandler rh, final StreamHandler sh)
        {
            this.messageType = messageType;
            this.templateId = templateId;
            this.requestHandler = rh;
            this.streamHandler = sh;
        }
    }

    private final String name;
    private ServiceMode mode = ServiceMode.EXCLUSIVE;
    private MessageSchema schema;
    private final Map<String, Handler> handlers = new LinkedHashMap<>();

    private ServiceDefinition(final String name)
    {
        this.name = name;
    }

    /**
     * Start defining a service.
     *
     * @param name of the service: ASCII letters, digits, '_', '-', '.'; 1 to 128 characters.
     * @return a new definition.
     */
    public static ServiceDefinition named(final String name)
    {
        final String problem = validateName(name);
        if (null != problem)
        {
            throw new IllegalArgumentException("invalid service name '" + name + "': " + problem);
        }
        return new ServiceDefinition(name);
    }

    /**
     * Check a service or message-type name.
     *
     * @param name to check.
     * @return null when valid, else what is wrong.
     */
    public static String validateName(final String name)
    {
        if (null == name || name.isEmpty())
        {
            return "empty";
        }
        if (name.length() > 128)
        {
            return "longer than 128 characters";
        }
        for (int i = 0; i < name.length(); i++)
        {
            final char c = name.charAt(i);
            if (!(Character.isLetterOrDigit(c) && c < 0x80) && c != '_' && c != '-' && c != '.')
            {
                return "character '" + c + "' at offset " + i;
            }
        }
        return null;
    }

    /**
     * Let several instances hold the name; callers spread requests round-robin over them.
     *
     * @return this for a fluent API.
     */
    public ServiceDefinition shared()
    {
        this.mode = ServiceMode.SHARED;
        return this;
    }

    /**
     * Hold the name alone (the default): a second registration is refused with {@code NAME_IN_USE}.
     *
     * @return this for a fluent API.
     */
    public ServiceDefinition exclusive()
    {
        this.mode = ServiceMode.EXCLUSIVE;
        return this;
    }

    /**
     * The SBE schema of the message types, handed to the broker so the gateway can transcode JSON.
     *
     * @param schema of the service's messages.
     * @return this for a fluent API.
     */
    public ServiceDefinition schema(final MessageSchema schema)
    {
        this.schema = Objects.requireNonNull(schema, "schema");
        return this;
    }

    /**
     * Serve a message type of the schema with request-response.
     *
     * @param messageType name of a message in the schema.
     * @param handler to answer it.
     * @return this for a fluent API.
     */
    public ServiceDefinition onRequest(final String messageType, final RequestHandler handler)
    {
        return add(messageType, templateIdOf(messageType), Objects.requireNonNull(handler, "handler"), null);
    }

    /**
     * Serve a message type of the schema with request-stream.
     *
     * @param messageType name of a message in the schema.
     * @param handler to run the stream.
     * @return this for a fluent API.
     */
    public ServiceDefinition onStream(final String messageType, final StreamHandler handler)
    {
        return add(messageType, templateIdOf(messageType), null, Objects.requireNonNull(handler, "handler"));
    }

    /**
     * Serve a message type of the schema with both request-response and request-stream handlers; the caller
     * chooses (the gateway, serving a shared name for socket clients, cannot know which the other instances take).
     *
     * @param messageType name of a message in the schema.
     * @param requestHandler to answer requests.
     * @param streamHandler to run streams.
     * @return this for a fluent API.
     */
    public ServiceDefinition onRequestOrStream(
        final String messageType, final RequestHandler requestHandler, final StreamHandler streamHandler)
    {
        return add(messageType, templateIdOf(messageType), Objects.requireNonNull(requestHandler, "requestHandler"),
            Objects.requireNonNull(streamHandler, "streamHandler"));
    }

    /**
     * Serve an opaque message type with request-response: its payload is JSON bytes passed through untouched.
     *
     * @param messageType name of the type.
     * @param handler to answer it.
     * @return this for a fluent API.
     */
    public ServiceDefinition onOpaqueRequest(final String messageType, final RequestHandler handler)
    {
        return add(messageType, OPAQUE_TEMPLATE_ID, Objects.requireNonNull(handler, "handler"), null);
    }

    /**
     * Serve an opaque message type with request-stream.
     *
     * @param messageType name of the type.
     * @param handler to run the stream.
     * @return this for a fluent API.
     */
    public ServiceDefinition onOpaqueStream(final String messageType, final StreamHandler handler)
    {
        return add(messageType, OPAQUE_TEMPLATE_ID, null, Objects.requireNonNull(handler, "handler"));
    }

    /**
     * Serve an opaque message type with both request-response and request-stream handlers; the caller chooses.
     *
     * @param messageType name of the type, or {@link #ANY_MESSAGE_TYPE} for every type.
     * @param requestHandler to answer requests.
     * @param streamHandler to run streams.
     * @return this for a fluent API.
     */
    public ServiceDefinition onOpaque(
        final String messageType, final RequestHandler requestHandler, final StreamHandler streamHandler)
    {
        return add(messageType, OPAQUE_TEMPLATE_ID, Objects.requireNonNull(requestHandler, "requestHandler"),
            Objects.requireNonNull(streamHandler, "streamHandler"));
    }

    private int templateIdOf(final String messageType)
    {
        if (null == schema)
        {
            throw new IllegalStateException("service '" + name + "': set schema(...) before adding SBE message type '" +
                messageType + "', or declare it opaque");
        }
        return schema.templateId(messageType);
    }

    private ServiceDefinition add(
        final String messageType, final int templateId, final RequestHandler rh, final StreamHandler sh)
    {
        final String problem = ANY_MESSAGE_TYPE.equals(messageType) ? null : validateName(messageType);
        if (null != problem)
        {
            throw new IllegalArgumentException("invalid message type '" + messageType + "': " + problem);
        }
        if (handlers.containsKey(messageType))
        {
            throw new IllegalArgumentException("service '" + name + "' already handles '" + messageType + "'");
        }
        handlers.put(messageType, new Handler(messageType, templateId, rh, sh));
        return this;
    }

    /**
     * Name of the service.
     *
     * @return the name.
     */
    public String name()
    {
        return name;
    }

    /**
     * How the name is held.
     *
     * @return the mode.
     */
    public ServiceMode mode()
    {
        return mode;
    }

    /**
     * The schema, or null when every type is opaque.
     *
     * @return the schema or null.
     */
    public MessageSchema schema()
    {
        return schema;
    }

    Map<String, Handler> handlers()
    {
        return Collections.unmodifiableMap(handlers);
    }
}
