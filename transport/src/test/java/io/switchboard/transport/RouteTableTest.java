package io.switchboard.transport;

import io.switchboard.codec.wire.BooleanType;
import io.switchboard.codec.wire.MessageHeaderDecoder;
import io.switchboard.codec.wire.MessageHeaderEncoder;
import io.switchboard.codec.wire.RouteAction;
import io.switchboard.codec.wire.RouteUpdateDecoder;
import io.switchboard.codec.wire.RouteUpdateEncoder;
import io.switchboard.codec.wire.SchemaUpdateDecoder;
import io.switchboard.codec.wire.SchemaUpdateEncoder;
import io.switchboard.codec.wire.ServiceMode;
import org.agrona.ExpandableDirectByteBuffer;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The client's one view of the registry, fed with route updates and schema updates encoded as the broker encodes
 * them and decoded by the {@link ControlAdapter}, as on the control connection: no process, no media driver.
 */
class RouteTableTest
{
    private final ExpandableDirectByteBuffer buffer = new ExpandableDirectByteBuffer(1024);
    private final MessageHeaderEncoder header = new MessageHeaderEncoder();
    private final List<Throwable> errors = new ArrayList<>();
    private final RouteTable routes = new RouteTable(200);
    private final ControlAdapter adapter = new ControlAdapter(routes, new PeerInboxProxy(
        new Switchboard.Context().conclude(), System::nanoTime, new LogFactory(System::nanoTime), new ClientCounters("route-table-test")),
        new ControlProxy((b, l) -> true), (peerId) -> routes.removeClient(peerId),
        new RetainedAdapter(new LocalSubscriptions(errors::add), new ClientCounters("route-table-test")), errors::add);

    @Test
    void shouldKnowEachInstanceWithItsPeerModeTypesAndSchema()
    {
        final byte[] ir = bytes(40, 1);
        schemaUpdate(RouteAction.ADD, 7301, 2, ir);
        routeUpdate(RouteAction.ADD, "calc", ServiceMode.SHARED, 3, types("Add", 1, "Multiply", 2), 7301, 2,
            "calc-a", 4242, false);
        routeUpdate(RouteAction.ADD, "calc", ServiceMode.SHARED, 9, types("Add", 1, "Multiply", 2), 7301, 2,
            "switchboard-gateway", 77, true);

        final RouteTable.Route calc = routes.route("calc");
        assertNotNull(calc);
        assertEquals(ServiceMode.SHARED, calc.mode());
        assertEquals(List.of("Add", "Multiply"), new ArrayList<>(calc.messageTypes().keySet()), "the broker's order");
        assertEquals(2, calc.templateId("Multiply"));
        assertEquals(Integer.MIN_VALUE, calc.templateId("Divide"));
        assertEquals(2, calc.instances().size());
        assertEquals(3, calc.instances().get(0).clientId());
        assertEquals("calc-a", calc.instances().get(0).peerName());
        assertEquals(4242, calc.instances().get(0).pid());
        assertFalse(calc.instances().get(0).inProcess());
        assertTrue(calc.instances().get(1).inProcess(), "the gateway's instance is marked");
        assertArrayEquals(ir, routes.schemaIr(calc), "the route names its schema by id and version");
        assertArrayEquals(ir, routes.schemaIr(7301, 2));
        assertNull(routes.schemaIr(7301, 1));
        assertEquals(40, routes.schemaBytes());
        assertTrue(errors.isEmpty(), errors.toString());
    }

    @Test
    void shouldForgetAnInstanceOnRemoveAndTheServiceWithItsLastInstance()
    {
        routeUpdate(RouteAction.ADD, "kv", ServiceMode.SHARED, 3, types("Get", -1), -1, -1, "a", 1, false);
        routeUpdate(RouteAction.ADD, "kv", ServiceMode.SHARED, 4, types("Get", -1), -1, -1, "b", 2, false);
        routeUpdate(RouteAction.REMOVE, "kv", ServiceMode.SHARED, 3, types("Get", -1), -1, -1, "a", 1, false);
        assertEquals(1, routes.route("kv").instances().size());
        assertEquals(4, routes.route("kv").instances().get(0).clientId());
        assertNull(routes.schemaIr(routes.route("kv")), "an opaque service has no schema");

        routeUpdate(RouteAction.REMOVE, "kv", ServiceMode.SHARED, 4, types("Get", -1), -1, -1, "b", 2, false);
        assertNull(routes.route("kv"));
        assertTrue(routes.routes().isEmpty());
    }

    @Test
    void shouldKeepADeclaredSchemaThatNoRouteNamesUntilItIsRemoved()
    {
        final byte[] ir = bytes(50, 2);
        schemaUpdate(RouteAction.ADD, 4242, 3, ir); // a publisher that serves nothing declared it
        assertArrayEquals(ir, routes.schemaIr(4242, 3));
        assertTrue(routes.routes().isEmpty());

        schemaUpdate(RouteAction.REMOVE, 4242, 3, new byte[0]);
        assertNull(routes.schemaIr(4242, 3));
        assertEquals(0, routes.schemaBytes());
    }

    @Test
    void shouldRefuseASchemaOverTheByteBoundAndReportIt()
    {
        schemaUpdate(RouteAction.ADD, 1, 1, bytes(150, 3));
        schemaUpdate(RouteAction.ADD, 2, 1, bytes(60, 4)); // 210 > 200

        assertNotNull(routes.schemaIr(1, 1));
        assertNull(routes.schemaIr(2, 1), "not kept");
        assertEquals(150, routes.schemaBytes());
        assertEquals(1, routes.schemasRefused());
        assertEquals(1, errors.size());
        final SwitchboardException refusal = (SwitchboardException)errors.get(0);
        assertEquals(ErrorCodes.PAYLOAD_TOO_LARGE, refusal.errorCode());
        assertTrue(refusal.getMessage().contains("200") && refusal.getMessage().contains("150"),
            "names the bound and what is held: " + refusal.getMessage());

        schemaUpdate(RouteAction.ADD, 1, 1, bytes(190, 5)); // a new IR for the same id and version replaces the old
        assertEquals(190, routes.schemaBytes());
    }

    @Test
    void shouldForgetRoutesAndSchemasOfALostSessionAndAPeerThatWent()
    {
        schemaUpdate(RouteAction.ADD, 7301, 2, bytes(10, 6));
        routeUpdate(RouteAction.ADD, "calc", ServiceMode.EXCLUSIVE, 3, types("Add", 1), 7301, 2, "a", 1, false);
        routeUpdate(RouteAction.ADD, "kv", ServiceMode.EXCLUSIVE, 5, types("Get", -1), -1, -1, "b", 2, false);
        routes.removeClient(3); // PeerGone
        assertNull(routes.route("calc"));
        assertNotNull(routes.route("kv"));

        routes.clear(); // the broker sends everything again in the next session
        assertTrue(routes.routes().isEmpty());
        assertNull(routes.schemaIr(7301, 2));
        assertEquals(0, routes.schemaBytes());
    }

    private static Map<String, Integer> types(final Object... nameThenId)
    {
        final Map<String, Integer> types = new LinkedHashMap<>();
        for (int i = 0; i < nameThenId.length; i += 2)
        {
            types.put((String)nameThenId[i], (Integer)nameThenId[i + 1]);
        }
        return types;
    }

    private static byte[] bytes(final int length, final int seed)
    {
        final byte[] bytes = new byte[length];
        for (int i = 0; i < length; i++)
        {
            bytes[i] = (byte)(seed + i);
        }
        return bytes;
    }

    private void schemaUpdate(final RouteAction action, final int schemaId, final int version, final byte[] ir)
    {
        final SchemaUpdateEncoder update = new SchemaUpdateEncoder().wrapAndApplyHeader(buffer, 0, header)
            .action(action).schemaId(schemaId).schemaVersion(version).putSchemaIr(ir, 0, ir.length);
        adapter.onMessage(buffer, 0, MessageHeaderDecoder.ENCODED_LENGTH + update.encodedLength());
    }

    private void routeUpdate(
        final RouteAction action, final String service, final ServiceMode mode, final int clientId,
        final Map<String, Integer> types, final int schemaId, final int schemaVersion, final String peerName,
        final long pid, final boolean inProcess)
    {
        final RouteUpdateEncoder update = new RouteUpdateEncoder().wrapAndApplyHeader(buffer, 0, header)
            .action(action).clientId(clientId).inboxStreamId(1000 + clientId).mode(mode).pid(pid)
            .inProcess(inProcess ? BooleanType.TRUE : BooleanType.FALSE).schemaId(schemaId)
            .schemaVersion(schemaVersion);
        final RouteUpdateEncoder.MessageTypesEncoder group = update.messageTypesCount(types.size());
        for (final Map.Entry<String, Integer> type : types.entrySet())
        {
            group.next().templateId(type.getValue()).name(type.getKey());
        }
        update.service(service).peerName(peerName);
        adapter.onMessage(buffer, 0, MessageHeaderDecoder.ENCODED_LENGTH + update.encodedLength());
        assertEquals(RouteUpdateDecoder.TEMPLATE_ID, new MessageHeaderDecoder().wrap(buffer, 0).templateId());
    }
}
