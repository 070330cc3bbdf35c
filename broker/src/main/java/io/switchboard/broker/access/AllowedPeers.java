package io.switchboard.broker.access;

import jdk.net.UnixDomainPrincipal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Which socket peers may connect, judged by their credentials (SO_PEERCRED): always the broker's own user, and the
 * users and groups allowed by configuration ({@code --allow-user NAME|UID}, {@code --allow-group NAME|GID}).
 * <p>
 * An allowance may be a name or a numeric id; names and ids are mapped both ways through {@code /etc/passwd} and
 * {@code /etc/group}, so a peer matches whether the JDK reports its name or (for an id with no name) its number.
 * A group allowance matches the peer's primary group as the kernel reports it, not its supplementary groups.
 * <p>
 * Immutable once built; built on the cold path (start-up), then read from the gateway's duty cycle.
 */
public final class AllowedPeers
{
    private final Set<String> userNames = new LinkedHashSet<>();
    private final Set<Long> uids = new LinkedHashSet<>();   // boxed: consulted once per accepted connection
    private final Set<String> groupNames = new LinkedHashSet<>();
    private final Set<Long> gids = new LinkedHashSet<>();
    private final List<String> description = new ArrayList<>();
    private final Map<String, Long> userIds;
    private final Map<String, Long> groupIds;

    private AllowedPeers(final Path passwd, final Path group)
    {
        this.userIds = readIds(passwd);
        this.groupIds = readIds(group);
    }

    /**
     * Allowances read from the system's {@code /etc/passwd} and {@code /etc/group}; none yet, so only the broker's
     * own user is allowed.
     *
     * @return allowances for the owner only.
     */
    public static AllowedPeers ownerOnly()
    {
        return new AllowedPeers(Paths.get("/etc/passwd"), Paths.get("/etc/group"));
    }

    /**
     * Allow a user.
     *
     * @param nameOrUid a user name or a numeric uid.
     * @return this for a fluent API.
     * @throws IllegalArgumentException if the value is empty.
     */
    public AllowedPeers allowUser(final String nameOrUid)
    {
        add(nameOrUid, "user", userIds, userNames, uids);
        return this;
    }

    /**
     * Allow the members of a group (peers whose primary group it is).
     *
     * @param nameOrGid a group name or a numeric gid.
     * @return this for a fluent API.
     * @throws IllegalArgumentException if the value is empty.
     */
    public AllowedPeers allowGroup(final String nameOrGid)
    {
        add(nameOrGid, "group", groupIds, groupNames, gids);
        return this;
    }

    /**
     * Whether any user or group besides the owner is allowed: then the socket must be reachable by other users.
     *
     * @return true if other users may connect.
     */
    public boolean allowsOthers()
    {
        return !description.isEmpty();
    }

    /**
     * What is allowed besides the owner, for the log: {@code user nobody (uid 65534), group 100 (users)}.
     *
     * @return the allowances, or "nobody else" if there are none.
     */
    public String describe()
    {
        return description.isEmpty() ? "nobody else" : String.join(", ", description);
    }

    /**
     * Whether a peer with these credentials may connect.
     *
     * @param peer the credentials from SO_PEERCRED.
     * @return true if it is the owner, an allowed user, or in an allowed group.
     */
    public boolean isAllowed(final UnixDomainPrincipal peer)
    {
        final String user = peer.user().getName();
        if (user.equals(System.getProperty("user.name")))
        {
            return true;
        }
        return matches(user, userNames, uids, userIds) || matches(peer.group().getName(), groupNames, gids, groupIds);
    }

    private static boolean matches(
        final String name, final Set<String> names, final Set<Long> ids, final Map<String, Long> idsByName)
    {
        if (names.contains(name))
        {
            return true;
        }
        Long id = parseId(name);
        if (null == id)
        {
            id = idsByName.get(name);
        }
        return null != id && ids.contains(id);
    }

    private void add(
        final String value,
        final String kind,
        final Map<String, Long> idsByName,
        final Set<String> names,
        final Set<Long> ids)
    {
        if (null == value || value.isBlank())
        {
            throw new IllegalArgumentException(kind + ": expected a name or a numeric id, actual='" + value + "'");
        }
        final Long parsed = parseId(value);
        if (null != parsed)
        {
            ids.add(parsed);
            final String name = nameOf(idsByName, parsed);
            if (null != name)
            {
                names.add(name);
            }
            description.add(kind + " " + value + (null != name ? " (" + name + ")" : " (no name in /etc/" + file(kind) +
                ")"));
            return;
        }
        names.add(value);
        final Long id = idsByName.get(value);
        if (null != id)
        {
            ids.add(id);
        }
        description.add(kind + " " + value + (null != id ? " (" + (kind.equals("user") ? "uid " : "gid ") + id + ")" :
            " (not in /etc/" + file(kind) + ": matched by name only)"));
    }

    private static String file(final String kind)
    {
        return "user".equals(kind) ? "passwd" : "group";
    }

    private static String nameOf(final Map<String, Long> idsByName, final long id)
    {
        for (final Map.Entry<String, Long> e : idsByName.entrySet())
        {
            if (e.getValue() == id)
            {
                return e.getKey();
            }
        }
        return null;
    }

    private static Long parseId(final String value)
    {
        if (value.isEmpty() || value.length() > 10)
        {
            return null;
        }
        for (int i = 0; i < value.length(); i++)
        {
            if (value.charAt(i) < '0' || value.charAt(i) > '9')
            {
                return null;
            }
        }
        return Long.parseLong(value);
    }

    /** Name to id from a passwd- or group-format file ({@code name:x:id:...}); empty if it cannot be read. */
    private static Map<String, Long> readIds(final Path file)
    {
        final Map<String, Long> ids = new HashMap<>();
        try
        {
            for (final String line : Files.readAllLines(file, StandardCharsets.UTF_8))
            {
                final String[] fields = line.split(":", -1);
                if (fields.length >= 3 && !line.startsWith("#"))
                {
                    final Long id = parseId(fields[2]);
                    if (null != id)
                    {
                        ids.putIfAbsent(fields[0], id);
                    }
                }
            }
        }
        catch (final IOException ex)
        {
            // no such file (a minimal container): allowances then match by what the JDK reports, name or number
        }
        return ids;
    }
}
