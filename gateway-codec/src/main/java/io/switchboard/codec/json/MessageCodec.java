package io.switchboard.codec.json;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * One message type of the schema: its name, template id and body.
 */
record MessageCodec(String name, int templateId, int sinceVersion, BodyCodec body)
{
    ObjectNode describe()
    {
        final ObjectNode description = Json.NODES.objectNode();
        description.put("name", name);
        description.put("template_id", templateId);
        description.put("block_length", body.blockLength());
        if (sinceVersion > 0)
        {
            description.put("since_version", sinceVersion);
        }
        description.set("fields", body.describe());
        return description;
    }
}
