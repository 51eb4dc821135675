/*eslint-disable block-scoped-var, id-length, no-control-regex, no-magic-numbers, no-mixed-operators, no-prototype-builtins, no-redeclare, no-shadow, no-var, sort-vars, default-case, jsdoc/require-param*/
import $protobuf from "protobufjs/minimal.js";

// Common aliases
const $Reader = $protobuf.Reader, $Writer = $protobuf.Writer, $util = $protobuf.util;
const $Object = $util.global.Object, $undefined = $util.global.undefined, $Error = $util.global.Error, $RangeError = $util.global.RangeError;

// Exported root namespace
const $root = $protobuf.roots["default"] || ($protobuf.roots["default"] = {});

export const ferry = $root.ferry = (() => {

    /**
     * Namespace ferry.
     * @exports ferry
     * @namespace
     */
    const ferry = {};

    ferry.v1 = (function() {

        /**
         * Namespace v1.
         * @memberof ferry
         * @namespace
         */
        const v1 = {};

        v1.Frame = (function() {

            /**
             * Properties of a Frame.
             * @typedef {Object} ferry.v1.Frame.$Properties
             * @property {number|null} [id] Frame id
             * @property {ferry.v1.Authenticate.$Properties|null} [authenticate] Frame authenticate
             * @property {ferry.v1.AuthResult.$Properties|null} [authResult] Frame authResult
             * @property {ferry.v1.Send.$Properties|null} [send] Frame send
             * @property {ferry.v1.SendAck.$Properties|null} [sendAck] Frame sendAck
             * @property {ferry.v1.Deliver.$Properties|null} [deliver] Frame deliver
             * @property {ferry.v1.Ack.$Properties|null} [ack] Frame ack
             * @property {ferry.v1.Ping.$Properties|null} [ping] Frame ping
             * @property {ferry.v1.Pong.$Properties|null} [pong] Frame pong
             * @property {ferry.v1.Subscribe.$Properties|null} [subscribe] Frame subscribe
             * @property {ferry.v1.Unsubscribe.$Properties|null} [unsubscribe] Frame unsubscribe
             * @property {ferry.v1.Publish.$Properties|null} [publish] Frame publish
             * @property {ferry.v1.PresenceQuery.$Properties|null} [presenceQuery] Frame presenceQuery
             * @property {ferry.v1.PresenceResult.$Properties|null} [presenceResult] Frame presenceResult
             * @property {ferry.v1.Reply.$Properties|null} [reply] Frame reply
             * @property {ferry.v1.Error.$Properties|null} [error] Frame error
             * @property {ferry.v1.Disconnect.$Properties|null} [disconnect] Frame disconnect
             * @property {ferry.v1.ServiceRequest.$Properties|null} [serviceRequest] Frame serviceRequest
             * @property {ferry.v1.ServiceAck.$Properties|null} [serviceAck] Frame serviceAck
             * @property {"authenticate"|"authResult"|"send"|"sendAck"|"deliver"|"ack"|"ping"|"pong"|"subscribe"|"unsubscribe"|"publish"|"presenceQuery"|"presenceResult"|"reply"|"error"|"disconnect"|"serviceRequest"|"serviceAck"} [body] Frame body
             * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
             */

            /**
             * Properties of a Frame.
             * @memberof ferry.v1
             * @interface IFrame
             * @augments ferry.v1.Frame.$Properties
             * @deprecated Use ferry.v1.Frame.$Properties instead.
             */

            /**
             * Narrowed shape of a Frame.
             * @typedef {{
             *   id?: number|null;
             *   authenticate?: ferry.v1.Authenticate.$Shape|null;
             *   authResult?: ferry.v1.AuthResult.$Shape|null;
             *   send?: ferry.v1.Send.$Shape|null;
             *   sendAck?: ferry.v1.SendAck.$Shape|null;
             *   deliver?: ferry.v1.Deliver.$Shape|null;
             *   ack?: ferry.v1.Ack.$Shape|null;
             *   ping?: ferry.v1.Ping.$Shape|null;
             *   pong?: ferry.v1.Pong.$Shape|null;
             *   subscribe?: ferry.v1.Subscribe.$Shape|null;
             *   unsubscribe?: ferry.v1.Unsubscribe.$Shape|null;
             *   publish?: ferry.v1.Publish.$Shape|null;
             *   presenceQuery?: ferry.v1.PresenceQuery.$Shape|null;
             *   presenceResult?: ferry.v1.PresenceResult.$Shape|null;
             *   reply?: ferry.v1.Reply.$Shape|null;
             *   error?: ferry.v1.Error.$Shape|null;
             *   disconnect?: ferry.v1.Disconnect.$Shape|null;
             *   serviceRequest?: ferry.v1.ServiceRequest.$Shape|null;
             *   serviceAck?: ferry.v1.ServiceAck.$Shape|null;
             *   $unknowns?: Array.<Uint8Array>;
             * } & (
             *   ({ body?: undefined; authenticate?: null; authResult?: null; send?: null; sendAck?: null; deliver?: null; ack?: null; ping?: null; pong?: null; subscribe?: null; unsubscribe?: null; publish?: null; presenceQuery?: null; presenceResult?: null; reply?: null; error?: null; disconnect?: null; serviceRequest?: null; serviceAck?: null }|{ body?: "authenticate"; authenticate: ferry.v1.Authenticate.$Shape; authResult?: null; send?: null; sendAck?: null; deliver?: null; ack?: null; ping?: null; pong?: null; subscribe?: null; unsubscribe?: null; publish?: null; presenceQuery?: null; presenceResult?: null; reply?: null; error?: null; disconnect?: null; serviceRequest?: null; serviceAck?: null }|{ body?: "authResult"; authenticate?: null; authResult: ferry.v1.AuthResult.$Shape; send?: null; sendAck?: null; deliver?: null; ack?: null; ping?: null; pong?: null; subscribe?: null; unsubscribe?: null; publish?: null; presenceQuery?: null; presenceResult?: null; reply?: null; error?: null; disconnect?: null; serviceRequest?: null; serviceAck?: null }|{ body?: "send"; authenticate?: null; authResult?: null; send: ferry.v1.Send.$Shape; sendAck?: null; deliver?: null; ack?: null; ping?: null; pong?: null; subscribe?: null; unsubscribe?: null; publish?: null; presenceQuery?: null; presenceResult?: null; reply?: null; error?: null; disconnect?: null; serviceRequest?: null; serviceAck?: null }|{ body?: "sendAck"; authenticate?: null; authResult?: null; send?: null; sendAck: ferry.v1.SendAck.$Shape; deliver?: null; ack?: null; ping?: null; pong?: null; subscribe?: null; unsubscribe?: null; publish?: null; presenceQuery?: null; presenceResult?: null; reply?: null; error?: null; disconnect?: null; serviceRequest?: null; serviceAck?: null }|{ body?: "deliver"; authenticate?: null; authResult?: null; send?: null; sendAck?: null; deliver: ferry.v1.Deliver.$Shape; ack?: null; ping?: null; pong?: null; subscribe?: null; unsubscribe?: null; publish?: null; presenceQuery?: null; presenceResult?: null; reply?: null; error?: null; disconnect?: null; serviceRequest?: null; serviceAck?: null }|{ body?: "ack"; authenticate?: null; authResult?: null; send?: null; sendAck?: null; deliver?: null; ack: ferry.v1.Ack.$Shape; ping?: null; pong?: null; subscribe?: null; unsubscribe?: null; publish?: null; presenceQuery?: null; presenceResult?: null; reply?: null; error?: null; disconnect?: null; serviceRequest?: null; serviceAck?: null }|{ body?: "ping"; authenticate?: null; authResult?: null; send?: null; sendAck?: null; deliver?: null; ack?: null; ping: ferry.v1.Ping.$Shape; pong?: null; subscribe?: null; unsubscribe?: null; publish?: null; presenceQuery?: null; presenceResult?: null; reply?: null; error?: null; disconnect?: null; serviceRequest?: null; serviceAck?: null }|{ body?: "pong"; authenticate?: null; authResult?: null; send?: null; sendAck?: null; deliver?: null; ack?: null; ping?: null; pong: ferry.v1.Pong.$Shape; subscribe?: null; unsubscribe?: null; publish?: null; presenceQuery?: null; presenceResult?: null; reply?: null; error?: null; disconnect?: null; serviceRequest?: null; serviceAck?: null }|{ body?: "subscribe"; authenticate?: null; authResult?: null; send?: null; sendAck?: null; deliver?: null; ack?: null; ping?: null; pong?: null; subscribe: ferry.v1.Subscribe.$Shape; unsubscribe?: null; publish?: null; presenceQuery?: null; presenceResult?: null; reply?: null; error?: null; disconnect?: null; serviceRequest?: null; serviceAck?: null }|{ body?: "unsubscribe"; authenticate?: null; authResult?: null; send?: null; sendAck?: null; deliver?: null; ack?: null; ping?: null; pong?: null; subscribe?: null; unsubscribe: ferry.v1.Unsubscribe.$Shape; publish?: null; presenceQuery?: null; presenceResult?: null; reply?: null; error?: null; disconnect?: null; serviceRequest?: null; serviceAck?: null }|{ body?: "publish"; authenticate?: null; authResult?: null; send?: null; sendAck?: null; deliver?: null; ack?: null; ping?: null; pong?: null; subscribe?: null; unsubscribe?: null; publish: ferry.v1.Publish.$Shape; presenceQuery?: null; presenceResult?: null; reply?: null; error?: null; disconnect?: null; serviceRequest?: null; serviceAck?: null }|{ body?: "presenceQuery"; authenticate?: null; authResult?: null; send?: null; sendAck?: null; deliver?: null; ack?: null; ping?: null; pong?: null; subscribe?: null; unsubscribe?: null; publish?: null; presenceQuery: ferry.v1.PresenceQuery.$Shape; presenceResult?: null; reply?: null; error?: null; disconnect?: null; serviceRequest?: null; serviceAck?: null }|{ body?: "presenceResult"; authenticate?: null; authResult?: null; send?: null; sendAck?: null; deliver?: null; ack?: null; ping?: null; pong?: null; subscribe?: null; unsubscribe?: null; publish?: null; presenceQuery?: null; presenceResult: ferry.v1.PresenceResult.$Shape; reply?: null; error?: null; disconnect?: null; serviceRequest?: null; serviceAck?: null }|{ body?: "reply"; authenticate?: null; authResult?: null; send?: null; sendAck?: null; deliver?: null; ack?: null; ping?: null; pong?: null; subscribe?: null; unsubscribe?: null; publish?: null; presenceQuery?: null; presenceResult?: null; reply: ferry.v1.Reply.$Shape; error?: null; disconnect?: null; serviceRequest?: null; serviceAck?: null }|{ body?: "error"; authenticate?: null; authResult?: null; send?: null; sendAck?: null; deliver?: null; ack?: null; ping?: null; pong?: null; subscribe?: null; unsubscribe?: null; publish?: null; presenceQuery?: null; presenceResult?: null; reply?: null; error: ferry.v1.Error.$Shape; disconnect?: null; serviceRequest?: null; serviceAck?: null }|{ body?: "disconnect"; authenticate?: null; authResult?: null; send?: null; sendAck?: null; deliver?: null; ack?: null; ping?: null; pong?: null; subscribe?: null; unsubscribe?: null; publish?: null; presenceQuery?: null; presenceResult?: null; reply?: null; error?: null; disconnect: ferry.v1.Disconnect.$Shape; serviceRequest?: null; serviceAck?: null }|{ body?: "serviceRequest"; authenticate?: null; authResult?: null; send?: null; sendAck?: null; deliver?: null; ack?: null; ping?: null; pong?: null; subscribe?: null; unsubscribe?: null; publish?: null; presenceQuery?: null; presenceResult?: null; reply?: null; error?: null; disconnect?: null; serviceRequest: ferry.v1.ServiceRequest.$Shape; serviceAck?: null }|{ body?: "serviceAck"; authenticate?: null; authResult?: null; send?: null; sendAck?: null; deliver?: null; ack?: null; ping?: null; pong?: null; subscribe?: null; unsubscribe?: null; publish?: null; presenceQuery?: null; presenceResult?: null; reply?: null; error?: null; disconnect?: null; serviceRequest?: null; serviceAck: ferry.v1.ServiceAck.$Shape })
             * )} ferry.v1.Frame.$Shape
             */

            /**
             * Constructs a new Frame.
             * @memberof ferry.v1
             * @classdesc Represents a Frame.
             * @constructor
             * @param {ferry.v1.Frame.$Properties=} [properties] Properties to set
             * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
             */
            const Frame = function (properties) {
                if (properties)
                    for (let keys = $Object.keys(properties), i = 0; i < keys.length; ++i)
                        if (properties[keys[i]] != null && keys[i] !== "__proto__")
                            this[keys[i]] = properties[keys[i]];
            };

            /**
             * Frame id.
             * @member {number} id
             * @memberof ferry.v1.Frame
             * @instance
             */
            Frame.prototype.id = 0;

            /**
             * Frame authenticate.
             * @member {ferry.v1.Authenticate.$Properties|null|undefined} authenticate
             * @memberof ferry.v1.Frame
             * @instance
             */
            Frame.prototype.authenticate = null;

            /**
             * Frame authResult.
             * @member {ferry.v1.AuthResult.$Properties|null|undefined} authResult
             * @memberof ferry.v1.Frame
             * @instance
             */
            Frame.prototype.authResult = null;

            /**
             * Frame send.
             * @member {ferry.v1.Send.$Properties|null|undefined} send
             * @memberof ferry.v1.Frame
             * @instance
             */
            Frame.prototype.send = null;

            /**
             * Frame sendAck.
             * @member {ferry.v1.SendAck.$Properties|null|undefined} sendAck
             * @memberof ferry.v1.Frame
             * @instance
             */
            Frame.prototype.sendAck = null;

            /**
             * Frame deliver.
             * @member {ferry.v1.Deliver.$Properties|null|undefined} deliver
             * @memberof ferry.v1.Frame
             * @instance
             */
            Frame.prototype.deliver = null;

            /**
             * Frame ack.
             * @member {ferry.v1.Ack.$Properties|null|undefined} ack
             * @memberof ferry.v1.Frame
             * @instance
             */
            Frame.prototype.ack = null;

            /**
             * Frame ping.
             * @member {ferry.v1.Ping.$Properties|null|undefined} ping
             * @memberof ferry.v1.Frame
             * @instance
             */
            Frame.prototype.ping = null;

            /**
             * Frame pong.
             * @member {ferry.v1.Pong.$Properties|null|undefined} pong
             * @memberof ferry.v1.Frame
             * @instance
             */
            Frame.prototype.pong = null;

            /**
             * Frame subscribe.
             * @member {ferry.v1.Subscribe.$Properties|null|undefined} subscribe
             * @memberof ferry.v1.Frame
             * @instance
             */
            Frame.prototype.subscribe = null;

            /**
             * Frame unsubscribe.
             * @member {ferry.v1.Unsubscribe.$Properties|null|undefined} unsubscribe
             * @memberof ferry.v1.Frame
             * @instance
             */
            Frame.prototype.unsubscribe = null;

            /**
             * Frame publish.
             * @member {ferry.v1.Publish.$Properties|null|undefined} publish
             * @memberof ferry.v1.Frame
             * @instance
             */
            Frame.prototype.publish = null;

            /**
             * Frame presenceQuery.
             * @member {ferry.v1.PresenceQuery.$Properties|null|undefined} presenceQuery
             * @memberof ferry.v1.Frame
             * @instance
             */
            Frame.prototype.presenceQuery = null;

            /**
             * Frame presenceResult.
             * @member {ferry.v1.PresenceResult.$Properties|null|undefined} presenceResult
             * @memberof ferry.v1.Frame
             * @instance
             */
            Frame.prototype.presenceResult = null;

            /**
             * Frame reply.
             * @member {ferry.v1.Reply.$Properties|null|undefined} reply
             * @memberof ferry.v1.Frame
             * @instance
             */
            Frame.prototype.reply = null;

            /**
             * Frame error.
             * @member {ferry.v1.Error.$Properties|null|undefined} error
             * @memberof ferry.v1.Frame
             * @instance
             */
            Frame.prototype.error = null;

            /**
             * Frame disconnect.
             * @member {ferry.v1.Disconnect.$Properties|null|undefined} disconnect
             * @memberof ferry.v1.Frame
             * @instance
             */
            Frame.prototype.disconnect = null;

            /**
             * Frame serviceRequest.
             * @member {ferry.v1.ServiceRequest.$Properties|null|undefined} serviceRequest
             * @memberof ferry.v1.Frame
             * @instance
             */
            Frame.prototype.serviceRequest = null;

            /**
             * Frame serviceAck.
             * @member {ferry.v1.ServiceAck.$Properties|null|undefined} serviceAck
             * @memberof ferry.v1.Frame
             * @instance
             */
            Frame.prototype.serviceAck = null;

            // OneOf field names bound to virtual getters and setters
            let $oneOfFields;

            /**
             * Frame body.
             * @member {"authenticate"|"authResult"|"send"|"sendAck"|"deliver"|"ack"|"ping"|"pong"|"subscribe"|"unsubscribe"|"publish"|"presenceQuery"|"presenceResult"|"reply"|"error"|"disconnect"|"serviceRequest"|"serviceAck"|undefined} body
             * @memberof ferry.v1.Frame
             * @instance
             */
            $Object.defineProperty(Frame.prototype, "body", {
                get: $util.oneOfGetter($oneOfFields = ["authenticate", "authResult", "send", "sendAck", "deliver", "ack", "ping", "pong", "subscribe", "unsubscribe", "publish", "presenceQuery", "presenceResult", "reply", "error", "disconnect", "serviceRequest", "serviceAck"]),
                set: $util.oneOfSetter($oneOfFields)
            });

            /**
             * Creates a new Frame instance using the specified properties.
             * @function create
             * @memberof ferry.v1.Frame
             * @static
             * @param {ferry.v1.Frame.$Properties=} [properties] Properties to set
             * @returns {ferry.v1.Frame} Frame instance
             * @type {{
             *   (properties: ferry.v1.Frame.$Shape): ferry.v1.Frame & ferry.v1.Frame.$Shape;
             *   (properties?: ferry.v1.Frame.$Properties): ferry.v1.Frame;
             * }}
             */
            Frame.create = function(properties) {
                return new Frame(properties);
            };

            /**
             * Encodes the specified Frame message. Does not implicitly {@link ferry.v1.Frame.verify|verify} messages.
             * @function encode
             * @memberof ferry.v1.Frame
             * @static
             * @param {ferry.v1.Frame.$Properties} message Frame message or plain object to encode
             * @param {$protobuf.Writer} [writer] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            Frame.encode = function (message, writer, _depth) {
                if (!writer)
                    writer = $Writer.create();
                if (_depth === $undefined)
                    _depth = 0;
                if (_depth > $util.recursionLimit)
                    throw $Error("max depth exceeded");
                if (message.id != null && $Object.hasOwnProperty.call(message, "id") && message.id !== 0)
                    writer.uint32(/* id 1, wireType 0 =*/8).uint32(message.id);
                if (message.authenticate != null && $Object.hasOwnProperty.call(message, "authenticate"))
                    $root.ferry.v1.Authenticate.encode(message.authenticate, writer.uint32(/* id 10, wireType 2 =*/82).fork(), _depth + 1).ldelim();
                if (message.authResult != null && $Object.hasOwnProperty.call(message, "authResult"))
                    $root.ferry.v1.AuthResult.encode(message.authResult, writer.uint32(/* id 11, wireType 2 =*/90).fork(), _depth + 1).ldelim();
                if (message.send != null && $Object.hasOwnProperty.call(message, "send"))
                    $root.ferry.v1.Send.encode(message.send, writer.uint32(/* id 12, wireType 2 =*/98).fork(), _depth + 1).ldelim();
                if (message.sendAck != null && $Object.hasOwnProperty.call(message, "sendAck"))
                    $root.ferry.v1.SendAck.encode(message.sendAck, writer.uint32(/* id 13, wireType 2 =*/106).fork(), _depth + 1).ldelim();
                if (message.deliver != null && $Object.hasOwnProperty.call(message, "deliver"))
                    $root.ferry.v1.Deliver.encode(message.deliver, writer.uint32(/* id 14, wireType 2 =*/114).fork(), _depth + 1).ldelim();
                if (message.ack != null && $Object.hasOwnProperty.call(message, "ack"))
                    $root.ferry.v1.Ack.encode(message.ack, writer.uint32(/* id 15, wireType 2 =*/122).fork(), _depth + 1).ldelim();
                if (message.ping != null && $Object.hasOwnProperty.call(message, "ping"))
                    $root.ferry.v1.Ping.encode(message.ping, writer.uint32(/* id 16, wireType 2 =*/130).fork(), _depth + 1).ldelim();
                if (message.pong != null && $Object.hasOwnProperty.call(message, "pong"))
                    $root.ferry.v1.Pong.encode(message.pong, writer.uint32(/* id 17, wireType 2 =*/138).fork(), _depth + 1).ldelim();
                if (message.subscribe != null && $Object.hasOwnProperty.call(message, "subscribe"))
                    $root.ferry.v1.Subscribe.encode(message.subscribe, writer.uint32(/* id 18, wireType 2 =*/146).fork(), _depth + 1).ldelim();
                if (message.unsubscribe != null && $Object.hasOwnProperty.call(message, "unsubscribe"))
                    $root.ferry.v1.Unsubscribe.encode(message.unsubscribe, writer.uint32(/* id 19, wireType 2 =*/154).fork(), _depth + 1).ldelim();
                if (message.publish != null && $Object.hasOwnProperty.call(message, "publish"))
                    $root.ferry.v1.Publish.encode(message.publish, writer.uint32(/* id 20, wireType 2 =*/162).fork(), _depth + 1).ldelim();
                if (message.presenceQuery != null && $Object.hasOwnProperty.call(message, "presenceQuery"))
                    $root.ferry.v1.PresenceQuery.encode(message.presenceQuery, writer.uint32(/* id 21, wireType 2 =*/170).fork(), _depth + 1).ldelim();
                if (message.presenceResult != null && $Object.hasOwnProperty.call(message, "presenceResult"))
                    $root.ferry.v1.PresenceResult.encode(message.presenceResult, writer.uint32(/* id 22, wireType 2 =*/178).fork(), _depth + 1).ldelim();
                if (message.reply != null && $Object.hasOwnProperty.call(message, "reply"))
                    $root.ferry.v1.Reply.encode(message.reply, writer.uint32(/* id 23, wireType 2 =*/186).fork(), _depth + 1).ldelim();
                if (message.error != null && $Object.hasOwnProperty.call(message, "error"))
                    $root.ferry.v1.Error.encode(message.error, writer.uint32(/* id 24, wireType 2 =*/194).fork(), _depth + 1).ldelim();
                if (message.disconnect != null && $Object.hasOwnProperty.call(message, "disconnect"))
                    $root.ferry.v1.Disconnect.encode(message.disconnect, writer.uint32(/* id 25, wireType 2 =*/202).fork(), _depth + 1).ldelim();
                if (message.serviceRequest != null && $Object.hasOwnProperty.call(message, "serviceRequest"))
                    $root.ferry.v1.ServiceRequest.encode(message.serviceRequest, writer.uint32(/* id 26, wireType 2 =*/210).fork(), _depth + 1).ldelim();
                if (message.serviceAck != null && $Object.hasOwnProperty.call(message, "serviceAck"))
                    $root.ferry.v1.ServiceAck.encode(message.serviceAck, writer.uint32(/* id 27, wireType 2 =*/218).fork(), _depth + 1).ldelim();
                if (message.$unknowns != null && $Object.hasOwnProperty.call(message, "$unknowns"))
                    for (let i = 0; i < message.$unknowns.length; ++i)
                        writer.raw(message.$unknowns[i]);
                return writer;
            };

            /**
             * Decodes a Frame message from the specified reader or buffer.
             * @function decode
             * @memberof ferry.v1.Frame
             * @static
             * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
             * @param {number} [length] Message length if known beforehand
             * @returns {ferry.v1.Frame & ferry.v1.Frame.$Shape} Frame
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            Frame.decode = function (reader, length, _end, _depth, _target) {
                if (!(reader instanceof $Reader))
                    reader = $Reader.create(reader);
                if (_depth === $undefined)
                    _depth = 0;
                if (_depth > $Reader.recursionLimit)
                    throw $Error("max depth exceeded");
                let end, message, value;
                if (length === $undefined)
                    end = reader.len;
                else {
                    end = reader.pos + length;
                    if (end > reader.len)
                        throw $RangeError("index out of range");
                    length = reader.len;
                    reader.len = end;
                }
                message = _target || new $root.ferry.v1.Frame();
                while (reader.pos < end) {
                    let start = reader.pos;
                    let tag = reader.tag();
                    if (tag === _end) {
                        _end = $undefined;
                        break;
                    }
                    let wireType = tag & 7;
                    switch (tag >>>= 3) {
                    case 1: {
                            if (wireType !== 0)
                                break;
                            if (value = reader.uint32())
                                message.id = value;
                            else
                                delete message.id;
                            continue;
                        }
                    case 10: {
                            if (wireType !== 2)
                                break;
                            message.authenticate = $root.ferry.v1.Authenticate.decode(reader, reader.size(), $undefined, _depth + 1, message.authenticate);
                            message.body = "authenticate";
                            continue;
                        }
                    case 11: {
                            if (wireType !== 2)
                                break;
                            message.authResult = $root.ferry.v1.AuthResult.decode(reader, reader.size(), $undefined, _depth + 1, message.authResult);
                            message.body = "authResult";
                            continue;
                        }
                    case 12: {
                            if (wireType !== 2)
                                break;
                            message.send = $root.ferry.v1.Send.decode(reader, reader.size(), $undefined, _depth + 1, message.send);
                            message.body = "send";
                            continue;
                        }
                    case 13: {
                            if (wireType !== 2)
                                break;
                            message.sendAck = $root.ferry.v1.SendAck.decode(reader, reader.size(), $undefined, _depth + 1, message.sendAck);
                            message.body = "sendAck";
                            continue;
                        }
                    case 14: {
                            if (wireType !== 2)
                                break;
                            message.deliver = $root.ferry.v1.Deliver.decode(reader, reader.size(), $undefined, _depth + 1, message.deliver);
                            message.body = "deliver";
                            continue;
                        }
                    case 15: {
                            if (wireType !== 2)
                                break;
                            message.ack = $root.ferry.v1.Ack.decode(reader, reader.size(), $undefined, _depth + 1, message.ack);
                            message.body = "ack";
                            continue;
                        }
                    case 16: {
                            if (wireType !== 2)
                                break;
                            message.ping = $root.ferry.v1.Ping.decode(reader, reader.size(), $undefined, _depth + 1, message.ping);
                            message.body = "ping";
                            continue;
                        }
                    case 17: {
                            if (wireType !== 2)
                                break;
                            message.pong = $root.ferry.v1.Pong.decode(reader, reader.size(), $undefined, _depth + 1, message.pong);
                            message.body = "pong";
                            continue;
                        }
                    case 18: {
                            if (wireType !== 2)
                                break;
                            message.subscribe = $root.ferry.v1.Subscribe.decode(reader, reader.size(), $undefined, _depth + 1, message.subscribe);
                            message.body = "subscribe";
                            continue;
                        }
                    case 19: {
                            if (wireType !== 2)
                                break;
                            message.unsubscribe = $root.ferry.v1.Unsubscribe.decode(reader, reader.size(), $undefined, _depth + 1, message.unsubscribe);
                            message.body = "unsubscribe";
                            continue;
                        }
                    case 20: {
                            if (wireType !== 2)
                                break;
                            message.publish = $root.ferry.v1.Publish.decode(reader, reader.size(), $undefined, _depth + 1, message.publish);
                            message.body = "publish";
                            continue;
                        }
                    case 21: {
                            if (wireType !== 2)
                                break;
                            message.presenceQuery = $root.ferry.v1.PresenceQuery.decode(reader, reader.size(), $undefined, _depth + 1, message.presenceQuery);
                            message.body = "presenceQuery";
                            continue;
                        }
                    case 22: {
                            if (wireType !== 2)
                                break;
                            message.presenceResult = $root.ferry.v1.PresenceResult.decode(reader, reader.size(), $undefined, _depth + 1, message.presenceResult);
                            message.body = "presenceResult";
                            continue;
                        }
                    case 23: {
                            if (wireType !== 2)
                                break;
                            message.reply = $root.ferry.v1.Reply.decode(reader, reader.size(), $undefined, _depth + 1, message.reply);
                            message.body = "reply";
                            continue;
                        }
                    case 24: {
                            if (wireType !== 2)
                                break;
                            message.error = $root.ferry.v1.Error.decode(reader, reader.size(), $undefined, _depth + 1, message.error);
                            message.body = "error";
                            continue;
                        }
                    case 25: {
                            if (wireType !== 2)
                                break;
                            message.disconnect = $root.ferry.v1.Disconnect.decode(reader, reader.size(), $undefined, _depth + 1, message.disconnect);
                            message.body = "disconnect";
                            continue;
                        }
                    case 26: {
                            if (wireType !== 2)
                                break;
                            message.serviceRequest = $root.ferry.v1.ServiceRequest.decode(reader, reader.size(), $undefined, _depth + 1, message.serviceRequest);
                            message.body = "serviceRequest";
                            continue;
                        }
                    case 27: {
                            if (wireType !== 2)
                                break;
                            message.serviceAck = $root.ferry.v1.ServiceAck.decode(reader, reader.size(), $undefined, _depth + 1, message.serviceAck);
                            message.body = "serviceAck";
                            continue;
                        }
                    }
                    reader.skipType(wireType, _depth, tag);
                    if (!reader.discardUnknown) {
                        $util.makeProp(message, "$unknowns", false);
                        (message.$unknowns || (message.$unknowns = [])).push(reader.raw(start, reader.pos));
                    }
                }
                if (length !== $undefined) {
                    if (reader.pos !== end)
                        throw $RangeError("index out of range");
                    reader.len = length;
                }
                if (_end !== $undefined)
                    throw $Error("missing end group");
                return message;
            };

            /**
             * Gets the type url for Frame
             * @function getTypeUrl
             * @memberof ferry.v1.Frame
             * @static
             * @param {string} [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
             * @returns {string} The type url
             */
            Frame.getTypeUrl = function(prefix) {
                if (prefix === $undefined)
                    prefix = "type.googleapis.com";
                return prefix + "/ferry.v1.Frame";
            };

            return Frame;
        })();

        v1.Authenticate = (function() {

            /**
             * Properties of an Authenticate.
             * @typedef {Object} ferry.v1.Authenticate.$Properties
             * @property {string|null} [token] Authenticate token
             * @property {string|null} [deviceId] Authenticate deviceId
             * @property {number|null} [lastSeq] Authenticate lastSeq
             * @property {string|null} [client] Authenticate client
             * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
             */

            /**
             * Properties of an Authenticate.
             * @memberof ferry.v1
             * @interface IAuthenticate
             * @augments ferry.v1.Authenticate.$Properties
             * @deprecated Use ferry.v1.Authenticate.$Properties instead.
             */

            /**
             * Shape of an Authenticate.
             * @typedef {ferry.v1.Authenticate.$Properties} ferry.v1.Authenticate.$Shape
             */

            /**
             * Constructs a new Authenticate.
             * @memberof ferry.v1
             * @classdesc Represents an Authenticate.
             * @constructor
             * @param {ferry.v1.Authenticate.$Properties=} [properties] Properties to set
             * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
             */
            const Authenticate = function (properties) {
                if (properties)
                    for (let keys = $Object.keys(properties), i = 0; i < keys.length; ++i)
                        if (properties[keys[i]] != null && keys[i] !== "__proto__")
                            this[keys[i]] = properties[keys[i]];
            };

            /**
             * Authenticate token.
             * @member {string} token
             * @memberof ferry.v1.Authenticate
             * @instance
             */
            Authenticate.prototype.token = "";

            /**
             * Authenticate deviceId.
             * @member {string} deviceId
             * @memberof ferry.v1.Authenticate
             * @instance
             */
            Authenticate.prototype.deviceId = "";

            /**
             * Authenticate lastSeq.
             * @member {number} lastSeq
             * @memberof ferry.v1.Authenticate
             * @instance
             */
            Authenticate.prototype.lastSeq = $util.Long ? $util.Long.fromBits(0,0,true) : 0;

            /**
             * Authenticate client.
             * @member {string} client
             * @memberof ferry.v1.Authenticate
             * @instance
             */
            Authenticate.prototype.client = "";

            /**
             * Creates a new Authenticate instance using the specified properties.
             * @function create
             * @memberof ferry.v1.Authenticate
             * @static
             * @param {ferry.v1.Authenticate.$Properties=} [properties] Properties to set
             * @returns {ferry.v1.Authenticate} Authenticate instance
             * @type {{
             *   (properties: ferry.v1.Authenticate.$Shape): ferry.v1.Authenticate & ferry.v1.Authenticate.$Shape;
             *   (properties?: ferry.v1.Authenticate.$Properties): ferry.v1.Authenticate;
             * }}
             */
            Authenticate.create = function(properties) {
                return new Authenticate(properties);
            };

            /**
             * Encodes the specified Authenticate message. Does not implicitly {@link ferry.v1.Authenticate.verify|verify} messages.
             * @function encode
             * @memberof ferry.v1.Authenticate
             * @static
             * @param {ferry.v1.Authenticate.$Properties} message Authenticate message or plain object to encode
             * @param {$protobuf.Writer} [writer] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            Authenticate.encode = function (message, writer, _depth) {
                if (!writer)
                    writer = $Writer.create();
                if (_depth === $undefined)
                    _depth = 0;
                if (_depth > $util.recursionLimit)
                    throw $Error("max depth exceeded");
                if (message.token != null && $Object.hasOwnProperty.call(message, "token") && message.token !== "")
                    writer.uint32(/* id 1, wireType 2 =*/10).string(message.token);
                if (message.deviceId != null && $Object.hasOwnProperty.call(message, "deviceId") && message.deviceId !== "")
                    writer.uint32(/* id 2, wireType 2 =*/18).string(message.deviceId);
                if (message.lastSeq != null && $Object.hasOwnProperty.call(message, "lastSeq") && (typeof message.lastSeq === "object" ? message.lastSeq.low || message.lastSeq.high : message.lastSeq !== 0))
                    writer.uint32(/* id 3, wireType 0 =*/24).uint64(message.lastSeq);
                if (message.client != null && $Object.hasOwnProperty.call(message, "client") && message.client !== "")
                    writer.uint32(/* id 4, wireType 2 =*/34).string(message.client);
                if (message.$unknowns != null && $Object.hasOwnProperty.call(message, "$unknowns"))
                    for (let i = 0; i < message.$unknowns.length; ++i)
                        writer.raw(message.$unknowns[i]);
                return writer;
            };

            /**
             * Decodes an Authenticate message from the specified reader or buffer.
             * @function decode
             * @memberof ferry.v1.Authenticate
             * @static
             * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
             * @param {number} [length] Message length if known beforehand
             * @returns {ferry.v1.Authenticate & ferry.v1.Authenticate.$Shape} Authenticate
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            Authenticate.decode = function (reader, length, _end, _depth, _target) {
                if (!(reader instanceof $Reader))
                    reader = $Reader.create(reader);
                if (_depth === $undefined)
                    _depth = 0;
                if (_depth > $Reader.recursionLimit)
                    throw $Error("max depth exceeded");
                let end, message, value;
                if (length === $undefined)
                    end = reader.len;
                else {
                    end = reader.pos + length;
                    if (end > reader.len)
                        throw $RangeError("index out of range");
                    length = reader.len;
                    reader.len = end;
                }
                message = _target || new $root.ferry.v1.Authenticate();
                while (reader.pos < end) {
                    let start = reader.pos;
                    let tag = reader.tag();
                    if (tag === _end) {
                        _end = $undefined;
                        break;
                    }
                    let wireType = tag & 7;
                    switch (tag >>>= 3) {
                    case 1: {
                            if (wireType !== 2)
                                break;
                            if ((value = reader.stringVerify()).length)
                                message.token = value;
                            else
                                delete message.token;
                            continue;
                        }
                    case 2: {
                            if (wireType !== 2)
                                break;
                            if ((value = reader.stringVerify()).length)
                                message.deviceId = value;
                            else
                                delete message.deviceId;
                            continue;
                        }
                    case 3: {
                            if (wireType !== 0)
                                break;
                            if (typeof (value = reader.uint64()) === "object" ? value.low || value.high : value !== 0)
                                message.lastSeq = value;
                            else
                                delete message.lastSeq;
                            continue;
                        }
                    case 4: {
                            if (wireType !== 2)
                                break;
                            if ((value = reader.stringVerify()).length)
                                message.client = value;
                            else
                                delete message.client;
                            continue;
                        }
                    }
                    reader.skipType(wireType, _depth, tag);
                    if (!reader.discardUnknown) {
                        $util.makeProp(message, "$unknowns", false);
                        (message.$unknowns || (message.$unknowns = [])).push(reader.raw(start, reader.pos));
                    }
                }
                if (length !== $undefined) {
                    if (reader.pos !== end)
                        throw $RangeError("index out of range");
                    reader.len = length;
                }
                if (_end !== $undefined)
                    throw $Error("missing end group");
                return message;
            };

            /**
             * Gets the type url for Authenticate
             * @function getTypeUrl
             * @memberof ferry.v1.Authenticate
             * @static
             * @param {string} [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
             * @returns {string} The type url
             */
            Authenticate.getTypeUrl = function(prefix) {
                if (prefix === $undefined)
                    prefix = "type.googleapis.com";
                return prefix + "/ferry.v1.Authenticate";
            };

            return Authenticate;
        })();

        v1.AuthResult = (function() {

            /**
             * Properties of an AuthResult.
             * @typedef {Object} ferry.v1.AuthResult.$Properties
             * @property {string|null} [userId] AuthResult userId
             * @property {string|null} [deviceId] AuthResult deviceId
             * @property {string|null} [sessionId] AuthResult sessionId
             * @property {string|null} [nodeId] AuthResult nodeId
             * @property {number|null} [heartbeatMs] AuthResult heartbeatMs
             * @property {number|null} [idleTimeoutMs] AuthResult idleTimeoutMs
             * @property {number|null} [maxFrameBytes] AuthResult maxFrameBytes
             * @property {number|null} [ackedSeq] AuthResult ackedSeq
             * @property {number|null} [expiresAtMs] AuthResult expiresAtMs
             * @property {boolean|null} [logReset] AuthResult logReset
             * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
             */

            /**
             * Properties of an AuthResult.
             * @memberof ferry.v1
             * @interface IAuthResult
             * @augments ferry.v1.AuthResult.$Properties
             * @deprecated Use ferry.v1.AuthResult.$Properties instead.
             */

            /**
             * Shape of an AuthResult.
             * @typedef {ferry.v1.AuthResult.$Properties} ferry.v1.AuthResult.$Shape
             */

            /**
             * Constructs a new AuthResult.
             * @memberof ferry.v1
             * @classdesc Represents an AuthResult.
             * @constructor
             * @param {ferry.v1.AuthResult.$Properties=} [properties] Properties to set
             * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
             */
            const AuthResult = function (properties) {
                if (properties)
                    for (let keys = $Object.keys(properties), i = 0; i < keys.length; ++i)
                        if (properties[keys[i]] != null && keys[i] !== "__proto__")
                            this[keys[i]] = properties[keys[i]];
            };

            /**
             * AuthResult userId.
             * @member {string} userId
             * @memberof ferry.v1.AuthResult
             * @instance
             */
            AuthResult.prototype.userId = "";

            /**
             * AuthResult deviceId.
             * @member {string} deviceId
             * @memberof ferry.v1.AuthResult
             * @instance
             */
            AuthResult.prototype.deviceId = "";

            /**
             * AuthResult sessionId.
             * @member {string} sessionId
             * @memberof ferry.v1.AuthResult
             * @instance
             */
            AuthResult.prototype.sessionId = "";

            /**
             * AuthResult nodeId.
             * @member {string} nodeId
             * @memberof ferry.v1.AuthResult
             * @instance
             */
            AuthResult.prototype.nodeId = "";

            /**
             * AuthResult heartbeatMs.
             * @member {number} heartbeatMs
             * @memberof ferry.v1.AuthResult
             * @instance
             */
            AuthResult.prototype.heartbeatMs = 0;

            /**
             * AuthResult idleTimeoutMs.
             * @member {number} idleTimeoutMs
             * @memberof ferry.v1.AuthResult
             * @instance
             */
            AuthResult.prototype.idleTimeoutMs = 0;

            /**
             * AuthResult maxFrameBytes.
             * @member {number} maxFrameBytes
             * @memberof ferry.v1.AuthResult
             * @instance
             */
            AuthResult.prototype.maxFrameBytes = 0;

            /**
             * AuthResult ackedSeq.
             * @member {number} ackedSeq
             * @memberof ferry.v1.AuthResult
             * @instance
             */
            AuthResult.prototype.ackedSeq = $util.Long ? $util.Long.fromBits(0,0,true) : 0;

            /**
             * AuthResult expiresAtMs.
             * @member {number} expiresAtMs
             * @memberof ferry.v1.AuthResult
             * @instance
             */
            AuthResult.prototype.expiresAtMs = $util.Long ? $util.Long.fromBits(0,0,false) : 0;

            /**
             * AuthResult logReset.
             * @member {boolean} logReset
             * @memberof ferry.v1.AuthResult
             * @instance
             */
            AuthResult.prototype.logReset = false;

            /**
             * Creates a new AuthResult instance using the specified properties.
             * @function create
             * @memberof ferry.v1.AuthResult
             * @static
             * @param {ferry.v1.AuthResult.$Properties=} [properties] Properties to set
             * @returns {ferry.v1.AuthResult} AuthResult instance
             * @type {{
             *   (properties: ferry.v1.AuthResult.$Shape): ferry.v1.AuthResult & ferry.v1.AuthResult.$Shape;
             *   (properties?: ferry.v1.AuthResult.$Properties): ferry.v1.AuthResult;
             * }}
             */
            AuthResult.create = function(properties) {
                return new AuthResult(properties);
            };

            /**
             * Encodes the specified AuthResult message. Does not implicitly {@link ferry.v1.AuthResult.verify|verify} messages.
             * @function encode
             * @memberof ferry.v1.AuthResult
             * @static
             * @param {ferry.v1.AuthResult.$Properties} message AuthResult message or plain object to encode
             * @param {$protobuf.Writer} [writer] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            AuthResult.encode = function (message, writer, _depth) {
                if (!writer)
                    writer = $Writer.create();
                if (_depth === $undefined)
                    _depth = 0;
                if (_depth > $util.recursionLimit)
                    throw $Error("max depth exceeded");
                if (message.userId != null && $Object.hasOwnProperty.call(message, "userId") && message.userId !== "")
                    writer.uint32(/* id 1, wireType 2 =*/10).string(message.userId);
                if (message.deviceId != null && $Object.hasOwnProperty.call(message, "deviceId") && message.deviceId !== "")
                    writer.uint32(/* id 2, wireType 2 =*/18).string(message.deviceId);
                if (message.sessionId != null && $Object.hasOwnProperty.call(message, "sessionId") && message.sessionId !== "")
                    writer.uint32(/* id 3, wireType 2 =*/26).string(message.sessionId);
                if (message.nodeId != null && $Object.hasOwnProperty.call(message, "nodeId") && message.nodeId !== "")
                    writer.uint32(/* id 4, wireType 2 =*/34).string(message.nodeId);
                if (message.heartbeatMs != null && $Object.hasOwnProperty.call(message, "heartbeatMs") && message.heartbeatMs !== 0)
                    writer.uint32(/* id 5, wireType 0 =*/40).uint32(message.heartbeatMs);
                if (message.idleTimeoutMs != null && $Object.hasOwnProperty.call(message, "idleTimeoutMs") && message.idleTimeoutMs !== 0)
                    writer.uint32(/* id 6, wireType 0 =*/48).uint32(message.idleTimeoutMs);
                if (message.maxFrameBytes != null && $Object.hasOwnProperty.call(message, "maxFrameBytes") && message.maxFrameBytes !== 0)
                    writer.uint32(/* id 7, wireType 0 =*/56).uint32(message.maxFrameBytes);
                if (message.ackedSeq != null && $Object.hasOwnProperty.call(message, "ackedSeq") && (typeof message.ackedSeq === "object" ? message.ackedSeq.low || message.ackedSeq.high : message.ackedSeq !== 0))
                    writer.uint32(/* id 8, wireType 0 =*/64).uint64(message.ackedSeq);
                if (message.expiresAtMs != null && $Object.hasOwnProperty.call(message, "expiresAtMs") && (typeof message.expiresAtMs === "object" ? message.expiresAtMs.low || message.expiresAtMs.high : message.expiresAtMs !== 0))
                    writer.uint32(/* id 9, wireType 0 =*/72).int64(message.expiresAtMs);
                if (message.logReset != null && $Object.hasOwnProperty.call(message, "logReset") && message.logReset !== false)
                    writer.uint32(/* id 10, wireType 0 =*/80).bool(message.logReset);
                if (message.$unknowns != null && $Object.hasOwnProperty.call(message, "$unknowns"))
                    for (let i = 0; i < message.$unknowns.length; ++i)
                        writer.raw(message.$unknowns[i]);
                return writer;
            };

            /**
             * Decodes an AuthResult message from the specified reader or buffer.
             * @function decode
             * @memberof ferry.v1.AuthResult
             * @static
             * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
             * @param {number} [length] Message length if known beforehand
             * @returns {ferry.v1.AuthResult & ferry.v1.AuthResult.$Shape} AuthResult
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            AuthResult.decode = function (reader, length, _end, _depth, _target) {
                if (!(reader instanceof $Reader))
                    reader = $Reader.create(reader);
                if (_depth === $undefined)
                    _depth = 0;
                if (_depth > $Reader.recursionLimit)
                    throw $Error("max depth exceeded");
                let end, message, value;
                if (length === $undefined)
                    end = reader.len;
                else {
                    end = reader.pos + length;
                    if (end > reader.len)
                        throw $RangeError("index out of range");
                    length = reader.len;
                    reader.len = end;
                }
                message = _target || new $root.ferry.v1.AuthResult();
                while (reader.pos < end) {
                    let start = reader.pos;
                    let tag = reader.tag();
                    if (tag === _end) {
                        _end = $undefined;
                        break;
                    }
                    let wireType = tag & 7;
                    switch (tag >>>= 3) {
                    case 1: {
                            if (wireType !== 2)
                                break;
                            if ((value = reader.stringVerify()).length)
                                message.userId = value;
                            else
                                delete message.userId;
                            continue;
                        }
                    case 2: {
                            if (wireType !== 2)
                                break;
                            if ((value = reader.stringVerify()).length)
                                message.deviceId = value;
                            else
                                delete message.deviceId;
                            continue;
                        }
                    case 3: {
                            if (wireType !== 2)
                                break;
                            if ((value = reader.stringVerify()).length)
                                message.sessionId = value;
                            else
                                delete message.sessionId;
                            continue;
                        }
                    case 4: {
                            if (wireType !== 2)
                                break;
                            if ((value = reader.stringVerify()).length)
                                message.nodeId = value;
                            else
                                delete message.nodeId;
                            continue;
                        }
                    case 5: {
                            if (wireType !== 0)
                                break;
                            if (value = reader.uint32())
                                message.heartbeatMs = value;
                            else
                                delete message.heartbeatMs;
                            continue;
                        }
                    case 6: {
                            if (wireType !== 0)
                                break;
                            if (value = reader.uint32())
                                message.idleTimeoutMs = value;
                            else
                                delete message.idleTimeoutMs;
                            continue;
                        }
                    case 7: {
                            if (wireType !== 0)
                                break;
                            if (value = reader.uint32())
                                message.maxFrameBytes = value;
                            else
                                delete message.maxFrameBytes;
                            continue;
                        }
                    case 8: {
                            if (wireType !== 0)
                                break;
                            if (typeof (value = reader.uint64()) === "object" ? value.low || value.high : value !== 0)
                                message.ackedSeq = value;
                            else
                                delete message.ackedSeq;
                            continue;
                        }
                    case 9: {
                            if (wireType !== 0)
                                break;
                            if (typeof (value = reader.int64()) === "object" ? value.low || value.high : value !== 0)
                                message.expiresAtMs = value;
                            else
                                delete message.expiresAtMs;
                            continue;
                        }
                    case 10: {
                            if (wireType !== 0)
                                break;
                            if (value = reader.bool())
                                message.logReset = value;
                            else
                                delete message.logReset;
                            continue;
                        }
                    }
                    reader.skipType(wireType, _depth, tag);
                    if (!reader.discardUnknown) {
                        $util.makeProp(message, "$unknowns", false);
                        (message.$unknowns || (message.$unknowns = [])).push(reader.raw(start, reader.pos));
                    }
                }
                if (length !== $undefined) {
                    if (reader.pos !== end)
                        throw $RangeError("index out of range");
                    reader.len = length;
                }
                if (_end !== $undefined)
                    throw $Error("missing end group");
                return message;
            };

            /**
             * Gets the type url for AuthResult
             * @function getTypeUrl
             * @memberof ferry.v1.AuthResult
             * @static
             * @param {string} [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
             * @returns {string} The type url
             */
            AuthResult.getTypeUrl = function(prefix) {
                if (prefix === $undefined)
                    prefix = "type.googleapis.com";
                return prefix + "/ferry.v1.AuthResult";
            };

            return AuthResult;
        })();

        /**
         * QoS enum.
         * @name ferry.v1.QoS
         * @enum {number}
         * @property {number} QOS_AT_MOST_ONCE=0 QOS_AT_MOST_ONCE value
         * @property {number} QOS_AT_LEAST_ONCE=1 QOS_AT_LEAST_ONCE value
         */
        v1.QoS = (function() {
            const valuesById = $Object.create(null), values = $Object.create(valuesById);
            values[valuesById[0] = "QOS_AT_MOST_ONCE"] = 0;
            values[valuesById[1] = "QOS_AT_LEAST_ONCE"] = 1;
            return values;
        })();

        v1.Send = (function() {

            /**
             * Properties of a Send.
             * @typedef {Object} ferry.v1.Send.$Properties
             * @property {string|null} [toUser] Send toUser
             * @property {Uint8Array|null} [payload] Send payload
             * @property {ferry.v1.QoS|null} [qos] Send qos
             * @property {string|null} [clientMsgId] Send clientMsgId
             * @property {boolean|null} [ephemeral] Send ephemeral
             * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
             */

            /**
             * Properties of a Send.
             * @memberof ferry.v1
             * @interface ISend
             * @augments ferry.v1.Send.$Properties
             * @deprecated Use ferry.v1.Send.$Properties instead.
             */

            /**
             * Shape of a Send.
             * @typedef {ferry.v1.Send.$Properties} ferry.v1.Send.$Shape
             */

            /**
             * Constructs a new Send.
             * @memberof ferry.v1
             * @classdesc Represents a Send.
             * @constructor
             * @param {ferry.v1.Send.$Properties=} [properties] Properties to set
             * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
             */
            const Send = function (properties) {
                if (properties)
                    for (let keys = $Object.keys(properties), i = 0; i < keys.length; ++i)
                        if (properties[keys[i]] != null && keys[i] !== "__proto__")
                            this[keys[i]] = properties[keys[i]];
            };

            /**
             * Send toUser.
             * @member {string} toUser
             * @memberof ferry.v1.Send
             * @instance
             */
            Send.prototype.toUser = "";

            /**
             * Send payload.
             * @member {Uint8Array} payload
             * @memberof ferry.v1.Send
             * @instance
             */
            Send.prototype.payload = $util.newBuffer([]);

            /**
             * Send qos.
             * @member {ferry.v1.QoS} qos
             * @memberof ferry.v1.Send
             * @instance
             */
            Send.prototype.qos = 0;

            /**
             * Send clientMsgId.
             * @member {string} clientMsgId
             * @memberof ferry.v1.Send
             * @instance
             */
            Send.prototype.clientMsgId = "";

            /**
             * Send ephemeral.
             * @member {boolean} ephemeral
             * @memberof ferry.v1.Send
             * @instance
             */
            Send.prototype.ephemeral = false;

            /**
             * Creates a new Send instance using the specified properties.
             * @function create
             * @memberof ferry.v1.Send
             * @static
             * @param {ferry.v1.Send.$Properties=} [properties] Properties to set
             * @returns {ferry.v1.Send} Send instance
             * @type {{
             *   (properties: ferry.v1.Send.$Shape): ferry.v1.Send & ferry.v1.Send.$Shape;
             *   (properties?: ferry.v1.Send.$Properties): ferry.v1.Send;
             * }}
             */
            Send.create = function(properties) {
                return new Send(properties);
            };

            /**
             * Encodes the specified Send message. Does not implicitly {@link ferry.v1.Send.verify|verify} messages.
             * @function encode
             * @memberof ferry.v1.Send
             * @static
             * @param {ferry.v1.Send.$Properties} message Send message or plain object to encode
             * @param {$protobuf.Writer} [writer] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            Send.encode = function (message, writer, _depth) {
                if (!writer)
                    writer = $Writer.create();
                if (_depth === $undefined)
                    _depth = 0;
                if (_depth > $util.recursionLimit)
                    throw $Error("max depth exceeded");
                if (message.toUser != null && $Object.hasOwnProperty.call(message, "toUser") && message.toUser !== "")
                    writer.uint32(/* id 1, wireType 2 =*/10).string(message.toUser);
                if (message.payload != null && $Object.hasOwnProperty.call(message, "payload") && message.payload.length)
                    writer.uint32(/* id 2, wireType 2 =*/18).bytes(message.payload);
                if (message.qos != null && $Object.hasOwnProperty.call(message, "qos") && message.qos !== 0)
                    writer.uint32(/* id 3, wireType 0 =*/24).int32(message.qos);
                if (message.clientMsgId != null && $Object.hasOwnProperty.call(message, "clientMsgId") && message.clientMsgId !== "")
                    writer.uint32(/* id 4, wireType 2 =*/34).string(message.clientMsgId);
                if (message.ephemeral != null && $Object.hasOwnProperty.call(message, "ephemeral") && message.ephemeral !== false)
                    writer.uint32(/* id 5, wireType 0 =*/40).bool(message.ephemeral);
                if (message.$unknowns != null && $Object.hasOwnProperty.call(message, "$unknowns"))
                    for (let i = 0; i < message.$unknowns.length; ++i)
                        writer.raw(message.$unknowns[i]);
                return writer;
            };

            /**
             * Decodes a Send message from the specified reader or buffer.
             * @function decode
             * @memberof ferry.v1.Send
             * @static
             * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
             * @param {number} [length] Message length if known beforehand
             * @returns {ferry.v1.Send & ferry.v1.Send.$Shape} Send
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            Send.decode = function (reader, length, _end, _depth, _target) {
                if (!(reader instanceof $Reader))
                    reader = $Reader.create(reader);
                if (_depth === $undefined)
                    _depth = 0;
                if (_depth > $Reader.recursionLimit)
                    throw $Error("max depth exceeded");
                let end, message, value;
                if (length === $undefined)
                    end = reader.len;
                else {
                    end = reader.pos + length;
                    if (end > reader.len)
                        throw $RangeError("index out of range");
                    length = reader.len;
                    reader.len = end;
                }
                message = _target || new $root.ferry.v1.Send();
                while (reader.pos < end) {
                    let start = reader.pos;
                    let tag = reader.tag();
                    if (tag === _end) {
                        _end = $undefined;
                        break;
                    }
                    let wireType = tag & 7;
                    switch (tag >>>= 3) {
                    case 1: {
                            if (wireType !== 2)
                                break;
                            if ((value = reader.stringVerify()).length)
                                message.toUser = value;
                            else
                                delete message.toUser;
                            continue;
                        }
                    case 2: {
                            if (wireType !== 2)
                                break;
                            if ((value = reader.bytes()).length)
                                message.payload = value;
                            else
                                delete message.payload;
                            continue;
                        }
                    case 3: {
                            if (wireType !== 0)
                                break;
                            if (value = reader.int32())
                                message.qos = value;
                            else
                                delete message.qos;
                            continue;
                        }
                    case 4: {
                            if (wireType !== 2)
                                break;
                            if ((value = reader.stringVerify()).length)
                                message.clientMsgId = value;
                            else
                                delete message.clientMsgId;
                            continue;
                        }
                    case 5: {
                            if (wireType !== 0)
                                break;
                            if (value = reader.bool())
                                message.ephemeral = value;
                            else
                                delete message.ephemeral;
                            continue;
                        }
                    }
                    reader.skipType(wireType, _depth, tag);
                    if (!reader.discardUnknown) {
                        $util.makeProp(message, "$unknowns", false);
                        (message.$unknowns || (message.$unknowns = [])).push(reader.raw(start, reader.pos));
                    }
                }
                if (length !== $undefined) {
                    if (reader.pos !== end)
                        throw $RangeError("index out of range");
                    reader.len = length;
                }
                if (_end !== $undefined)
                    throw $Error("missing end group");
                return message;
            };

            /**
             * Gets the type url for Send
             * @function getTypeUrl
             * @memberof ferry.v1.Send
             * @static
             * @param {string} [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
             * @returns {string} The type url
             */
            Send.getTypeUrl = function(prefix) {
                if (prefix === $undefined)
                    prefix = "type.googleapis.com";
                return prefix + "/ferry.v1.Send";
            };

            return Send;
        })();

        v1.SendAck = (function() {

            /**
             * Properties of a SendAck.
             * @typedef {Object} ferry.v1.SendAck.$Properties
             * @property {string|null} [clientMsgId] SendAck clientMsgId
             * @property {string|null} [serverId] SendAck serverId
             * @property {number|null} [seq] SendAck seq
             * @property {number|null} [timestampMs] SendAck timestampMs
             * @property {boolean|null} [duplicate] SendAck duplicate
             * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
             */

            /**
             * Properties of a SendAck.
             * @memberof ferry.v1
             * @interface ISendAck
             * @augments ferry.v1.SendAck.$Properties
             * @deprecated Use ferry.v1.SendAck.$Properties instead.
             */

            /**
             * Shape of a SendAck.
             * @typedef {ferry.v1.SendAck.$Properties} ferry.v1.SendAck.$Shape
             */

            /**
             * Constructs a new SendAck.
             * @memberof ferry.v1
             * @classdesc Represents a SendAck.
             * @constructor
             * @param {ferry.v1.SendAck.$Properties=} [properties] Properties to set
             * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
             */
            const SendAck = function (properties) {
                if (properties)
                    for (let keys = $Object.keys(properties), i = 0; i < keys.length; ++i)
                        if (properties[keys[i]] != null && keys[i] !== "__proto__")
                            this[keys[i]] = properties[keys[i]];
            };

            /**
             * SendAck clientMsgId.
             * @member {string} clientMsgId
             * @memberof ferry.v1.SendAck
             * @instance
             */
            SendAck.prototype.clientMsgId = "";

            /**
             * SendAck serverId.
             * @member {string} serverId
             * @memberof ferry.v1.SendAck
             * @instance
             */
            SendAck.prototype.serverId = "";

            /**
             * SendAck seq.
             * @member {number} seq
             * @memberof ferry.v1.SendAck
             * @instance
             */
            SendAck.prototype.seq = $util.Long ? $util.Long.fromBits(0,0,true) : 0;

            /**
             * SendAck timestampMs.
             * @member {number} timestampMs
             * @memberof ferry.v1.SendAck
             * @instance
             */
            SendAck.prototype.timestampMs = $util.Long ? $util.Long.fromBits(0,0,false) : 0;

            /**
             * SendAck duplicate.
             * @member {boolean} duplicate
             * @memberof ferry.v1.SendAck
             * @instance
             */
            SendAck.prototype.duplicate = false;

            /**
             * Creates a new SendAck instance using the specified properties.
             * @function create
             * @memberof ferry.v1.SendAck
             * @static
             * @param {ferry.v1.SendAck.$Properties=} [properties] Properties to set
             * @returns {ferry.v1.SendAck} SendAck instance
             * @type {{
             *   (properties: ferry.v1.SendAck.$Shape): ferry.v1.SendAck & ferry.v1.SendAck.$Shape;
             *   (properties?: ferry.v1.SendAck.$Properties): ferry.v1.SendAck;
             * }}
             */
            SendAck.create = function(properties) {
                return new SendAck(properties);
            };

            /**
             * Encodes the specified SendAck message. Does not implicitly {@link ferry.v1.SendAck.verify|verify} messages.
             * @function encode
             * @memberof ferry.v1.SendAck
             * @static
             * @param {ferry.v1.SendAck.$Properties} message SendAck message or plain object to encode
             * @param {$protobuf.Writer} [writer] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            SendAck.encode = function (message, writer, _depth) {
                if (!writer)
                    writer = $Writer.create();
                if (_depth === $undefined)
                    _depth = 0;
                if (_depth > $util.recursionLimit)
                    throw $Error("max depth exceeded");
                if (message.clientMsgId != null && $Object.hasOwnProperty.call(message, "clientMsgId") && message.clientMsgId !== "")
                    writer.uint32(/* id 1, wireType 2 =*/10).string(message.clientMsgId);
                if (message.serverId != null && $Object.hasOwnProperty.call(message, "serverId") && message.serverId !== "")
                    writer.uint32(/* id 2, wireType 2 =*/18).string(message.serverId);
                if (message.seq != null && $Object.hasOwnProperty.call(message, "seq") && (typeof message.seq === "object" ? message.seq.low || message.seq.high : message.seq !== 0))
                    writer.uint32(/* id 3, wireType 0 =*/24).uint64(message.seq);
                if (message.timestampMs != null && $Object.hasOwnProperty.call(message, "timestampMs") && (typeof message.timestampMs === "object" ? message.timestampMs.low || message.timestampMs.high : message.timestampMs !== 0))
                    writer.uint32(/* id 4, wireType 0 =*/32).int64(message.timestampMs);
                if (message.duplicate != null && $Object.hasOwnProperty.call(message, "duplicate") && message.duplicate !== false)
                    writer.uint32(/* id 5, wireType 0 =*/40).bool(message.duplicate);
                if (message.$unknowns != null && $Object.hasOwnProperty.call(message, "$unknowns"))
                    for (let i = 0; i < message.$unknowns.length; ++i)
                        writer.raw(message.$unknowns[i]);
                return writer;
            };

            /**
             * Decodes a SendAck message from the specified reader or buffer.
             * @function decode
             * @memberof ferry.v1.SendAck
             * @static
             * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
             * @param {number} [length] Message length if known beforehand
             * @returns {ferry.v1.SendAck & ferry.v1.SendAck.$Shape} SendAck
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            SendAck.decode = function (reader, length, _end, _depth, _target) {
                if (!(reader instanceof $Reader))
                    reader = $Reader.create(reader);
                if (_depth === $undefined)
                    _depth = 0;
                if (_depth > $Reader.recursionLimit)
                    throw $Error("max depth exceeded");
                let end, message, value;
                if (length === $undefined)
                    end = reader.len;
                else {
                    end = reader.pos + length;
                    if (end > reader.len)
                        throw $RangeError("index out of range");
                    length = reader.len;
                    reader.len = end;
                }
                message = _target || new $root.ferry.v1.SendAck();
                while (reader.pos < end) {
                    let start = reader.pos;
                    let tag = reader.tag();
                    if (tag === _end) {
                        _end = $undefined;
                        break;
                    }
                    let wireType = tag & 7;
                    switch (tag >>>= 3) {
                    case 1: {
                            if (wireType !== 2)
                                break;
                            if ((value = reader.stringVerify()).length)
                                message.clientMsgId = value;
                            else
                                delete message.clientMsgId;
                            continue;
                        }
                    case 2: {
                            if (wireType !== 2)
                                break;
                            if ((value = reader.stringVerify()).length)
                                message.serverId = value;
                            else
                                delete message.serverId;
                            continue;
                        }
                    case 3: {
                            if (wireType !== 0)
                                break;
                            if (typeof (value = reader.uint64()) === "object" ? value.low || value.high : value !== 0)
                                message.seq = value;
                            else
                                delete message.seq;
                            continue;
                        }
                    case 4: {
                            if (wireType !== 0)
                                break;
                            if (typeof (value = reader.int64()) === "object" ? value.low || value.high : value !== 0)
                                message.timestampMs = value;
                            else
                                delete message.timestampMs;
                            continue;
                        }
                    case 5: {
                            if (wireType !== 0)
                                break;
                            if (value = reader.bool())
                                message.duplicate = value;
                            else
                                delete message.duplicate;
                            continue;
                        }
                    }
                    reader.skipType(wireType, _depth, tag);
                    if (!reader.discardUnknown) {
                        $util.makeProp(message, "$unknowns", false);
                        (message.$unknowns || (message.$unknowns = [])).push(reader.raw(start, reader.pos));
                    }
                }
                if (length !== $undefined) {
                    if (reader.pos !== end)
                        throw $RangeError("index out of range");
                    reader.len = length;
                }
                if (_end !== $undefined)
                    throw $Error("missing end group");
                return message;
            };

            /**
             * Gets the type url for SendAck
             * @function getTypeUrl
             * @memberof ferry.v1.SendAck
             * @static
             * @param {string} [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
             * @returns {string} The type url
             */
            SendAck.getTypeUrl = function(prefix) {
                if (prefix === $undefined)
                    prefix = "type.googleapis.com";
                return prefix + "/ferry.v1.SendAck";
            };

            return SendAck;
        })();

        v1.Deliver = (function() {

            /**
             * Properties of a Deliver.
             * @typedef {Object} ferry.v1.Deliver.$Properties
             * @property {string|null} [serverId] Deliver serverId
             * @property {number|null} [seq] Deliver seq
             * @property {string|null} [fromUser] Deliver fromUser
             * @property {string|null} [fromDevice] Deliver fromDevice
             * @property {string|null} [topic] Deliver topic
             * @property {Uint8Array|null} [payload] Deliver payload
             * @property {number|null} [timestampMs] Deliver timestampMs
             * @property {ferry.v1.QoS|null} [qos] Deliver qos
             * @property {string|null} [clientMsgId] Deliver clientMsgId
             * @property {boolean|null} [ephemeral] Deliver ephemeral
             * @property {string|null} [fromService] Deliver fromService
             * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
             */

            /**
             * Properties of a Deliver.
             * @memberof ferry.v1
             * @interface IDeliver
             * @augments ferry.v1.Deliver.$Properties
             * @deprecated Use ferry.v1.Deliver.$Properties instead.
             */

            /**
             * Shape of a Deliver.
             * @typedef {ferry.v1.Deliver.$Properties} ferry.v1.Deliver.$Shape
             */

            /**
             * Constructs a new Deliver.
             * @memberof ferry.v1
             * @classdesc Represents a Deliver.
             * @constructor
             * @param {ferry.v1.Deliver.$Properties=} [properties] Properties to set
             * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
             */
            const Deliver = function (properties) {
                if (properties)
                    for (let keys = $Object.keys(properties), i = 0; i < keys.length; ++i)
                        if (properties[keys[i]] != null && keys[i] !== "__proto__")
                            this[keys[i]] = properties[keys[i]];
            };

            /**
             * Deliver serverId.
             * @member {string} serverId
             * @memberof ferry.v1.Deliver
             * @instance
             */
            Deliver.prototype.serverId = "";

            /**
             * Deliver seq.
             * @member {number} seq
             * @memberof ferry.v1.Deliver
             * @instance
             */
            Deliver.prototype.seq = $util.Long ? $util.Long.fromBits(0,0,true) : 0;

            /**
             * Deliver fromUser.
             * @member {string} fromUser
             * @memberof ferry.v1.Deliver
             * @instance
             */
            Deliver.prototype.fromUser = "";

            /**
             * Deliver fromDevice.
             * @member {string} fromDevice
             * @memberof ferry.v1.Deliver
             * @instance
             */
            Deliver.prototype.fromDevice = "";

            /**
             * Deliver topic.
             * @member {string} topic
             * @memberof ferry.v1.Deliver
             * @instance
             */
            Deliver.prototype.topic = "";

            /**
             * Deliver payload.
             * @member {Uint8Array} payload
             * @memberof ferry.v1.Deliver
             * @instance
             */
            Deliver.prototype.payload = $util.newBuffer([]);

            /**
             * Deliver timestampMs.
             * @member {number} timestampMs
             * @memberof ferry.v1.Deliver
             * @instance
             */
            Deliver.prototype.timestampMs = $util.Long ? $util.Long.fromBits(0,0,false) : 0;

            /**
             * Deliver qos.
             * @member {ferry.v1.QoS} qos
             * @memberof ferry.v1.Deliver
             * @instance
             */
            Deliver.prototype.qos = 0;

            /**
             * Deliver clientMsgId.
             * @member {string} clientMsgId
             * @memberof ferry.v1.Deliver
             * @instance
             */
            Deliver.prototype.clientMsgId = "";

            /**
             * Deliver ephemeral.
             * @member {boolean} ephemeral
             * @memberof ferry.v1.Deliver
             * @instance
             */
            Deliver.prototype.ephemeral = false;

            /**
             * Deliver fromService.
             * @member {string} fromService
             * @memberof ferry.v1.Deliver
             * @instance
             */
            Deliver.prototype.fromService = "";

            /**
             * Creates a new Deliver instance using the specified properties.
             * @function create
             * @memberof ferry.v1.Deliver
             * @static
             * @param {ferry.v1.Deliver.$Properties=} [properties] Properties to set
             * @returns {ferry.v1.Deliver} Deliver instance
             * @type {{
             *   (properties: ferry.v1.Deliver.$Shape): ferry.v1.Deliver & ferry.v1.Deliver.$Shape;
             *   (properties?: ferry.v1.Deliver.$Properties): ferry.v1.Deliver;
             * }}
             */
            Deliver.create = function(properties) {
                return new Deliver(properties);
            };

            /**
             * Encodes the specified Deliver message. Does not implicitly {@link ferry.v1.Deliver.verify|verify} messages.
             * @function encode
             * @memberof ferry.v1.Deliver
             * @static
             * @param {ferry.v1.Deliver.$Properties} message Deliver message or plain object to encode
             * @param {$protobuf.Writer} [writer] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            Deliver.encode = function (message, writer, _depth) {
                if (!writer)
                    writer = $Writer.create();
                if (_depth === $undefined)
                    _depth = 0;
                if (_depth > $util.recursionLimit)
                    throw $Error("max depth exceeded");
                if (message.serverId != null && $Object.hasOwnProperty.call(message, "serverId") && message.serverId !== "")
                    writer.uint32(/* id 1, wireType 2 =*/10).string(message.serverId);
                if (message.seq != null && $Object.hasOwnProperty.call(message, "seq") && (typeof message.seq === "object" ? message.seq.low || message.seq.high : message.seq !== 0))
                    writer.uint32(/* id 2, wireType 0 =*/16).uint64(message.seq);
                if (message.fromUser != null && $Object.hasOwnProperty.call(message, "fromUser") && message.fromUser !== "")
                    writer.uint32(/* id 3, wireType 2 =*/26).string(message.fromUser);
                if (message.fromDevice != null && $Object.hasOwnProperty.call(message, "fromDevice") && message.fromDevice !== "")
                    writer.uint32(/* id 4, wireType 2 =*/34).string(message.fromDevice);
                if (message.topic != null && $Object.hasOwnProperty.call(message, "topic") && message.topic !== "")
                    writer.uint32(/* id 5, wireType 2 =*/42).string(message.topic);
                if (message.payload != null && $Object.hasOwnProperty.call(message, "payload") && message.payload.length)
                    writer.uint32(/* id 6, wireType 2 =*/50).bytes(message.payload);
                if (message.timestampMs != null && $Object.hasOwnProperty.call(message, "timestampMs") && (typeof message.timestampMs === "object" ? message.timestampMs.low || message.timestampMs.high : message.timestampMs !== 0))
                    writer.uint32(/* id 7, wireType 0 =*/56).int64(message.timestampMs);
                if (message.qos != null && $Object.hasOwnProperty.call(message, "qos") && message.qos !== 0)
                    writer.uint32(/* id 8, wireType 0 =*/64).int32(message.qos);
                if (message.clientMsgId != null && $Object.hasOwnProperty.call(message, "clientMsgId") && message.clientMsgId !== "")
                    writer.uint32(/* id 9, wireType 2 =*/74).string(message.clientMsgId);
                if (message.ephemeral != null && $Object.hasOwnProperty.call(message, "ephemeral") && message.ephemeral !== false)
                    writer.uint32(/* id 10, wireType 0 =*/80).bool(message.ephemeral);
                if (message.fromService != null && $Object.hasOwnProperty.call(message, "fromService") && message.fromService !== "")
                    writer.uint32(/* id 11, wireType 2 =*/90).string(message.fromService);
                if (message.$unknowns != null && $Object.hasOwnProperty.call(message, "$unknowns"))
                    for (let i = 0; i < message.$unknowns.length; ++i)
                        writer.raw(message.$unknowns[i]);
                return writer;
            };

            /**
             * Decodes a Deliver message from the specified reader or buffer.
             * @function decode
             * @memberof ferry.v1.Deliver
             * @static
             * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
             * @param {number} [length] Message length if known beforehand
             * @returns {ferry.v1.Deliver & ferry.v1.Deliver.$Shape} Deliver
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            Deliver.decode = function (reader, length, _end, _depth, _target) {
                if (!(reader instanceof $Reader))
                    reader = $Reader.create(reader);
                if (_depth === $undefined)
                    _depth = 0;
                if (_depth > $Reader.recursionLimit)
                    throw $Error("max depth exceeded");
                let end, message, value;
                if (length === $undefined)
                    end = reader.len;
                else {
                    end = reader.pos + length;
                    if (end > reader.len)
                        throw $RangeError("index out of range");
                    length = reader.len;
                    reader.len = end;
                }
                message = _target || new $root.ferry.v1.Deliver();
                while (reader.pos < end) {
                    let start = reader.pos;
                    let tag = reader.tag();
                    if (tag === _end) {
                        _end = $undefined;
                        break;
                    }
                    let wireType = tag & 7;
                    switch (tag >>>= 3) {
                    case 1: {
                            if (wireType !== 2)
                                break;
                            if ((value = reader.stringVerify()).length)
                                message.serverId = value;
                            else
                                delete message.serverId;
                            continue;
                        }
                    case 2: {
                            if (wireType !== 0)
                                break;
                            if (typeof (value = reader.uint64()) === "object" ? value.low || value.high : value !== 0)
                                message.seq = value;
                            else
                                delete message.seq;
                            continue;
                        }
                    case 3: {
                            if (wireType !== 2)
                                break;
                            if ((value = reader.stringVerify()).length)
                                message.fromUser = value;
                            else
                                delete message.fromUser;
                            continue;
                        }
                    case 4: {
                            if (wireType !== 2)
                                break;
                            if ((value = reader.stringVerify()).length)
                                message.fromDevice = value;
                            else
                                delete message.fromDevice;
                            continue;
                        }
                    case 5: {
                            if (wireType !== 2)
                                break;
                            if ((value = reader.stringVerify()).length)
                                message.topic = value;
                            else
                                delete message.topic;
                            continue;
                        }
                    case 6: {
                            if (wireType !== 2)
                                break;
                            if ((value = reader.bytes()).length)
                                message.payload = value;
                            else
                                delete message.payload;
                            continue;
                        }
                    case 7: {
                            if (wireType !== 0)
                                break;
                            if (typeof (value = reader.int64()) === "object" ? value.low || value.high : value !== 0)
                                message.timestampMs = value;
                            else
                                delete message.timestampMs;
                            continue;
                        }
                    case 8: {
                            if (wireType !== 0)
                                break;
                            if (value = reader.int32())
                                message.qos = value;
                            else
                                delete message.qos;
                            continue;
                        }
                    case 9: {
                            if (wireType !== 2)
                                break;
                            if ((value = reader.stringVerify()).length)
                                message.clientMsgId = value;
                            else
                                delete message.clientMsgId;
                            continue;
                        }
                    case 10: {
                            if (wireType !== 0)
                                break;
                            if (value = reader.bool())
                                message.ephemeral = value;
                            else
                                delete message.ephemeral;
                            continue;
                        }
                    case 11: {
                            if (wireType !== 2)
                                break;
                            if ((value = reader.stringVerify()).length)
                                message.fromService = value;
                            else
                                delete message.fromService;
                            continue;
                        }
                    }
                    reader.skipType(wireType, _depth, tag);
                    if (!reader.discardUnknown) {
                        $util.makeProp(message, "$unknowns", false);
                        (message.$unknowns || (message.$unknowns = [])).push(reader.raw(start, reader.pos));
                    }
                }
                if (length !== $undefined) {
                    if (reader.pos !== end)
                        throw $RangeError("index out of range");
                    reader.len = length;
                }
                if (_end !== $undefined)
                    throw $Error("missing end group");
                return message;
            };

            /**
             * Gets the type url for Deliver
             * @function getTypeUrl
             * @memberof ferry.v1.Deliver
             * @static
             * @param {string} [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
             * @returns {string} The type url
             */
            Deliver.getTypeUrl = function(prefix) {
                if (prefix === $undefined)
                    prefix = "type.googleapis.com";
                return prefix + "/ferry.v1.Deliver";
            };

            return Deliver;
        })();

        v1.Ack = (function() {

            /**
             * Properties of an Ack.
             * @typedef {Object} ferry.v1.Ack.$Properties
             * @property {number|null} [seq] Ack seq
             * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
             */

            /**
             * Properties of an Ack.
             * @memberof ferry.v1
             * @interface IAck
             * @augments ferry.v1.Ack.$Properties
             * @deprecated Use ferry.v1.Ack.$Properties instead.
             */

            /**
             * Shape of an Ack.
             * @typedef {ferry.v1.Ack.$Properties} ferry.v1.Ack.$Shape
             */

            /**
             * Constructs a new Ack.
             * @memberof ferry.v1
             * @classdesc Represents an Ack.
             * @constructor
             * @param {ferry.v1.Ack.$Properties=} [properties] Properties to set
             * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
             */
            const Ack = function (properties) {
                if (properties)
                    for (let keys = $Object.keys(properties), i = 0; i < keys.length; ++i)
                        if (properties[keys[i]] != null && keys[i] !== "__proto__")
                            this[keys[i]] = properties[keys[i]];
            };

            /**
             * Ack seq.
             * @member {number} seq
             * @memberof ferry.v1.Ack
             * @instance
             */
            Ack.prototype.seq = $util.Long ? $util.Long.fromBits(0,0,true) : 0;

            /**
             * Creates a new Ack instance using the specified properties.
             * @function create
             * @memberof ferry.v1.Ack
             * @static
             * @param {ferry.v1.Ack.$Properties=} [properties] Properties to set
             * @returns {ferry.v1.Ack} Ack instance
             * @type {{
             *   (properties: ferry.v1.Ack.$Shape): ferry.v1.Ack & ferry.v1.Ack.$Shape;
             *   (properties?: ferry.v1.Ack.$Properties): ferry.v1.Ack;
             * }}
             */
            Ack.create = function(properties) {
                return new Ack(properties);
            };

            /**
             * Encodes the specified Ack message. Does not implicitly {@link ferry.v1.Ack.verify|verify} messages.
             * @function encode
             * @memberof ferry.v1.Ack
             * @static
             * @param {ferry.v1.Ack.$Properties} message Ack message or plain object to encode
             * @param {$protobuf.Writer} [writer] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            Ack.encode = function (message, writer, _depth) {
                if (!writer)
                    writer = $Writer.create();
                if (_depth === $undefined)
                    _depth = 0;
                if (_depth > $util.recursionLimit)
                    throw $Error("max depth exceeded");
                if (message.seq != null && $Object.hasOwnProperty.call(message, "seq") && (typeof message.seq === "object" ? message.seq.low || message.seq.high : message.seq !== 0))
                    writer.uint32(/* id 1, wireType 0 =*/8).uint64(message.seq);
                if (message.$unknowns != null && $Object.hasOwnProperty.call(message, "$unknowns"))
                    for (let i = 0; i < message.$unknowns.length; ++i)
                        writer.raw(message.$unknowns[i]);
                return writer;
            };

            /**
             * Decodes an Ack message from the specified reader or buffer.
             * @function decode
             * @memberof ferry.v1.Ack
             * @static
             * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
             * @param {number} [length] Message length if known beforehand
             * @returns {ferry.v1.Ack & ferry.v1.Ack.$Shape} Ack
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            Ack.decode = function (reader, length, _end, _depth, _target) {
                if (!(reader instanceof $Reader))
                    reader = $Reader.create(reader);
                if (_depth === $undefined)
                    _depth = 0;
                if (_depth > $Reader.recursionLimit)
                    throw $Error("max depth exceeded");
                let end, message, value;
                if (length === $undefined)
                    end = reader.len;
                else {
                    end = reader.pos + length;
                    if (end > reader.len)
                        throw $RangeError("index out of range");
                    length = reader.len;
                    reader.len = end;
                }
                message = _target || new $root.ferry.v1.Ack();
                while (reader.pos < end) {
                    let start = reader.pos;
                    let tag = reader.tag();
                    if (tag === _end) {
                        _end = $undefined;
                        break;
                    }
                    let wireType = tag & 7;
                    switch (tag >>>= 3) {
                    case 1: {
                            if (wireType !== 0)
                                break;
                            if (typeof (value = reader.uint64()) === "object" ? value.low || value.high : value !== 0)
                                message.seq = value;
                            else
                                delete message.seq;
                            continue;
                        }
                    }
                    reader.skipType(wireType, _depth, tag);
                    if (!reader.discardUnknown) {
                        $util.makeProp(message, "$unknowns", false);
                        (message.$unknowns || (message.$unknowns = [])).push(reader.raw(start, reader.pos));
                    }
                }
                if (length !== $undefined) {
                    if (reader.pos !== end)
                        throw $RangeError("index out of range");
                    reader.len = length;
                }
                if (_end !== $undefined)
                    throw $Error("missing end group");
                return message;
            };

            /**
             * Gets the type url for Ack
             * @function getTypeUrl
             * @memberof ferry.v1.Ack
             * @static
             * @param {string} [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
             * @returns {string} The type url
             */
            Ack.getTypeUrl = function(prefix) {
                if (prefix === $undefined)
                    prefix = "type.googleapis.com";
                return prefix + "/ferry.v1.Ack";
            };

            return Ack;
        })();

        v1.Ping = (function() {

            /**
             * Properties of a Ping.
             * @typedef {Object} ferry.v1.Ping.$Properties
             * @property {number|null} [timestampMs] Ping timestampMs
             * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
             */

            /**
             * Properties of a Ping.
             * @memberof ferry.v1
             * @interface IPing
             * @augments ferry.v1.Ping.$Properties
             * @deprecated Use ferry.v1.Ping.$Properties instead.
             */

            /**
             * Shape of a Ping.
             * @typedef {ferry.v1.Ping.$Properties} ferry.v1.Ping.$Shape
             */

            /**
             * Constructs a new Ping.
             * @memberof ferry.v1
             * @classdesc Represents a Ping.
             * @constructor
             * @param {ferry.v1.Ping.$Properties=} [properties] Properties to set
             * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
             */
            const Ping = function (properties) {
                if (properties)
                    for (let keys = $Object.keys(properties), i = 0; i < keys.length; ++i)
                        if (properties[keys[i]] != null && keys[i] !== "__proto__")
                            this[keys[i]] = properties[keys[i]];
            };

            /**
             * Ping timestampMs.
             * @member {number} timestampMs
             * @memberof ferry.v1.Ping
             * @instance
             */
            Ping.prototype.timestampMs = $util.Long ? $util.Long.fromBits(0,0,false) : 0;

            /**
             * Creates a new Ping instance using the specified properties.
             * @function create
             * @memberof ferry.v1.Ping
             * @static
             * @param {ferry.v1.Ping.$Properties=} [properties] Properties to set
             * @returns {ferry.v1.Ping} Ping instance
             * @type {{
             *   (properties: ferry.v1.Ping.$Shape): ferry.v1.Ping & ferry.v1.Ping.$Shape;
             *   (properties?: ferry.v1.Ping.$Properties): ferry.v1.Ping;
             * }}
             */
            Ping.create = function(properties) {
                return new Ping(properties);
            };

            /**
             * Encodes the specified Ping message. Does not implicitly {@link ferry.v1.Ping.verify|verify} messages.
             * @function encode
             * @memberof ferry.v1.Ping
             * @static
             * @param {ferry.v1.Ping.$Properties} message Ping message or plain object to encode
             * @param {$protobuf.Writer} [writer] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            Ping.encode = function (message, writer, _depth) {
                if (!writer)
                    writer = $Writer.create();
                if (_depth === $undefined)
                    _depth = 0;
                if (_depth > $util.recursionLimit)
                    throw $Error("max depth exceeded");
                if (message.timestampMs != null && $Object.hasOwnProperty.call(message, "timestampMs") && (typeof message.timestampMs === "object" ? message.timestampMs.low || message.timestampMs.high : message.timestampMs !== 0))
                    writer.uint32(/* id 1, wireType 0 =*/8).int64(message.timestampMs);
                if (message.$unknowns != null && $Object.hasOwnProperty.call(message, "$unknowns"))
                    for (let i = 0; i < message.$unknowns.length; ++i)
                        writer.raw(message.$unknowns[i]);
                return writer;
            };

            /**
             * Decodes a Ping message from the specified reader or buffer.
             * @function decode
             * @memberof ferry.v1.Ping
             * @static
             * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
             * @param {number} [length] Message length if known beforehand
             * @returns {ferry.v1.Ping & ferry.v1.Ping.$Shape} Ping
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            Ping.decode = function (reader, length, _end, _depth, _target) {
                if (!(reader instanceof $Reader))
                    reader = $Reader.create(reader);
                if (_depth === $undefined)
                    _depth = 0;
                if (_depth > $Reader.recursionLimit)
                    throw $Error("max depth exceeded");
                let end, message, value;
                if (length === $undefined)
                    end = reader.len;
                else {
                    end = reader.pos + length;
                    if (end > reader.len)
                        throw $RangeError("index out of range");
                    length = reader.len;
                    reader.len = end;
                }
                message = _target || new $root.ferry.v1.Ping();
                while (reader.pos < end) {
                    let start = reader.pos;
                    let tag = reader.tag();
                    if (tag === _end) {
                        _end = $undefined;
                        break;
                    }
                    let wireType = tag & 7;
                    switch (tag >>>= 3) {
                    case 1: {
                            if (wireType !== 0)
                                break;
                            if (typeof (value = reader.int64()) === "object" ? value.low || value.high : value !== 0)
                                message.timestampMs = value;
                            else
                                delete message.timestampMs;
                            continue;
                        }
                    }
                    reader.skipType(wireType, _depth, tag);
                    if (!reader.discardUnknown) {
                        $util.makeProp(message, "$unknowns", false);
                        (message.$unknowns || (message.$unknowns = [])).push(reader.raw(start, reader.pos));
                    }
                }
                if (length !== $undefined) {
                    if (reader.pos !== end)
                        throw $RangeError("index out of range");
                    reader.len = length;
                }
                if (_end !== $undefined)
                    throw $Error("missing end group");
                return message;
            };

            /**
             * Gets the type url for Ping
             * @function getTypeUrl
             * @memberof ferry.v1.Ping
             * @static
             * @param {string} [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
             * @returns {string} The type url
             */
            Ping.getTypeUrl = function(prefix) {
                if (prefix === $undefined)
                    prefix = "type.googleapis.com";
                return prefix + "/ferry.v1.Ping";
            };

            return Ping;
        })();

        v1.Pong = (function() {

            /**
             * Properties of a Pong.
             * @typedef {Object} ferry.v1.Pong.$Properties
             * @property {number|null} [timestampMs] Pong timestampMs
             * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
             */

            /**
             * Properties of a Pong.
             * @memberof ferry.v1
             * @interface IPong
             * @augments ferry.v1.Pong.$Properties
             * @deprecated Use ferry.v1.Pong.$Properties instead.
             */

            /**
             * Shape of a Pong.
             * @typedef {ferry.v1.Pong.$Properties} ferry.v1.Pong.$Shape
             */

            /**
             * Constructs a new Pong.
             * @memberof ferry.v1
             * @classdesc Represents a Pong.
             * @constructor
             * @param {ferry.v1.Pong.$Properties=} [properties] Properties to set
             * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
             */
            const Pong = function (properties) {
                if (properties)
                    for (let keys = $Object.keys(properties), i = 0; i < keys.length; ++i)
                        if (properties[keys[i]] != null && keys[i] !== "__proto__")
                            this[keys[i]] = properties[keys[i]];
            };

            /**
             * Pong timestampMs.
             * @member {number} timestampMs
             * @memberof ferry.v1.Pong
             * @instance
             */
            Pong.prototype.timestampMs = $util.Long ? $util.Long.fromBits(0,0,false) : 0;

            /**
             * Creates a new Pong instance using the specified properties.
             * @function create
             * @memberof ferry.v1.Pong
             * @static
             * @param {ferry.v1.Pong.$Properties=} [properties] Properties to set
             * @returns {ferry.v1.Pong} Pong instance
             * @type {{
             *   (properties: ferry.v1.Pong.$Shape): ferry.v1.Pong & ferry.v1.Pong.$Shape;
             *   (properties?: ferry.v1.Pong.$Properties): ferry.v1.Pong;
             * }}
             */
            Pong.create = function(properties) {
                return new Pong(properties);
            };

            /**
             * Encodes the specified Pong message. Does not implicitly {@link ferry.v1.Pong.verify|verify} messages.
             * @function encode
             * @memberof ferry.v1.Pong
             * @static
             * @param {ferry.v1.Pong.$Properties} message Pong message or plain object to encode
             * @param {$protobuf.Writer} [writer] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            Pong.encode = function (message, writer, _depth) {
                if (!writer)
                    writer = $Writer.create();
                if (_depth === $undefined)
                    _depth = 0;
                if (_depth > $util.recursionLimit)
                    throw $Error("max depth exceeded");
                if (message.timestampMs != null && $Object.hasOwnProperty.call(message, "timestampMs") && (typeof message.timestampMs === "object" ? message.timestampMs.low || message.timestampMs.high : message.timestampMs !== 0))
                    writer.uint32(/* id 1, wireType 0 =*/8).int64(message.timestampMs);
                if (message.$unknowns != null && $Object.hasOwnProperty.call(message, "$unknowns"))
                    for (let i = 0; i < message.$unknowns.length; ++i)
                        writer.raw(message.$unknowns[i]);
                return writer;
            };

            /**
             * Decodes a Pong message from the specified reader or buffer.
             * @function decode
             * @memberof ferry.v1.Pong
             * @static
             * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
             * @param {number} [length] Message length if known beforehand
             * @returns {ferry.v1.Pong & ferry.v1.Pong.$Shape} Pong
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            Pong.decode = function (reader, length, _end, _depth, _target) {
                if (!(reader instanceof $Reader))
                    reader = $Reader.create(reader);
                if (_depth === $undefined)
                    _depth = 0;
                if (_depth > $Reader.recursionLimit)
                    throw $Error("max depth exceeded");
                let end, message, value;
                if (length === $undefined)
                    end = reader.len;
                else {
                    end = reader.pos + length;
                    if (end > reader.len)
                        throw $RangeError("index out of range");
                    length = reader.len;
                    reader.len = end;
                }
                message = _target || new $root.ferry.v1.Pong();
                while (reader.pos < end) {
                    let start = reader.pos;
                    let tag = reader.tag();
                    if (tag === _end) {
                        _end = $undefined;
                        break;
                    }
                    let wireType = tag & 7;
                    switch (tag >>>= 3) {
                    case 1: {
                            if (wireType !== 0)
                                break;
                            if (typeof (value = reader.int64()) === "object" ? value.low || value.high : value !== 0)
                                message.timestampMs = value;
                            else
                                delete message.timestampMs;
                            continue;
                        }
                    }
                    reader.skipType(wireType, _depth, tag);
                    if (!reader.discardUnknown) {
                        $util.makeProp(message, "$unknowns", false);
                        (message.$unknowns || (message.$unknowns = [])).push(reader.raw(start, reader.pos));
                    }
                }
                if (length !== $undefined) {
                    if (reader.pos !== end)
                        throw $RangeError("index out of range");
                    reader.len = length;
                }
                if (_end !== $undefined)
                    throw $Error("missing end group");
                return message;
            };

            /**
             * Gets the type url for Pong
             * @function getTypeUrl
             * @memberof ferry.v1.Pong
             * @static
             * @param {string} [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
             * @returns {string} The type url
             */
            Pong.getTypeUrl = function(prefix) {
                if (prefix === $undefined)
                    prefix = "type.googleapis.com";
                return prefix + "/ferry.v1.Pong";
            };

            return Pong;
        })();

        v1.Subscribe = (function() {

            /**
             * Properties of a Subscribe.
             * @typedef {Object} ferry.v1.Subscribe.$Properties
             * @property {string|null} [topic] Subscribe topic
             * @property {number|null} [sinceSeq] Subscribe sinceSeq
             * @property {string|null} [token] Subscribe token
             * @property {boolean|null} [fromStart] Subscribe fromStart
             * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
             */

            /**
             * Properties of a Subscribe.
             * @memberof ferry.v1
             * @interface ISubscribe
             * @augments ferry.v1.Subscribe.$Properties
             * @deprecated Use ferry.v1.Subscribe.$Properties instead.
             */

            /**
             * Shape of a Subscribe.
             * @typedef {ferry.v1.Subscribe.$Properties} ferry.v1.Subscribe.$Shape
             */

            /**
             * Constructs a new Subscribe.
             * @memberof ferry.v1
             * @classdesc Represents a Subscribe.
             * @constructor
             * @param {ferry.v1.Subscribe.$Properties=} [properties] Properties to set
             * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
             */
            const Subscribe = function (properties) {
                if (properties)
                    for (let keys = $Object.keys(properties), i = 0; i < keys.length; ++i)
                        if (properties[keys[i]] != null && keys[i] !== "__proto__")
                            this[keys[i]] = properties[keys[i]];
            };

            /**
             * Subscribe topic.
             * @member {string} topic
             * @memberof ferry.v1.Subscribe
             * @instance
             */
            Subscribe.prototype.topic = "";

            /**
             * Subscribe sinceSeq.
             * @member {number} sinceSeq
             * @memberof ferry.v1.Subscribe
             * @instance
             */
            Subscribe.prototype.sinceSeq = $util.Long ? $util.Long.fromBits(0,0,true) : 0;

            /**
             * Subscribe token.
             * @member {string} token
             * @memberof ferry.v1.Subscribe
             * @instance
             */
            Subscribe.prototype.token = "";

            /**
             * Subscribe fromStart.
             * @member {boolean} fromStart
             * @memberof ferry.v1.Subscribe
             * @instance
             */
            Subscribe.prototype.fromStart = false;

            /**
             * Creates a new Subscribe instance using the specified properties.
             * @function create
             * @memberof ferry.v1.Subscribe
             * @static
             * @param {ferry.v1.Subscribe.$Properties=} [properties] Properties to set
             * @returns {ferry.v1.Subscribe} Subscribe instance
             * @type {{
             *   (properties: ferry.v1.Subscribe.$Shape): ferry.v1.Subscribe & ferry.v1.Subscribe.$Shape;
             *   (properties?: ferry.v1.Subscribe.$Properties): ferry.v1.Subscribe;
             * }}
             */
            Subscribe.create = function(properties) {
                return new Subscribe(properties);
            };

            /**
             * Encodes the specified Subscribe message. Does not implicitly {@link ferry.v1.Subscribe.verify|verify} messages.
             * @function encode
             * @memberof ferry.v1.Subscribe
             * @static
             * @param {ferry.v1.Subscribe.$Properties} message Subscribe message or plain object to encode
             * @param {$protobuf.Writer} [writer] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            Subscribe.encode = function (message, writer, _depth) {
                if (!writer)
                    writer = $Writer.create();
                if (_depth === $undefined)
                    _depth = 0;
                if (_depth > $util.recursionLimit)
                    throw $Error("max depth exceeded");
                if (message.topic != null && $Object.hasOwnProperty.call(message, "topic") && message.topic !== "")
                    writer.uint32(/* id 1, wireType 2 =*/10).string(message.topic);
                if (message.sinceSeq != null && $Object.hasOwnProperty.call(message, "sinceSeq") && (typeof message.sinceSeq === "object" ? message.sinceSeq.low || message.sinceSeq.high : message.sinceSeq !== 0))
                    writer.uint32(/* id 2, wireType 0 =*/16).uint64(message.sinceSeq);
                if (message.token != null && $Object.hasOwnProperty.call(message, "token") && message.token !== "")
                    writer.uint32(/* id 3, wireType 2 =*/26).string(message.token);
                if (message.fromStart != null && $Object.hasOwnProperty.call(message, "fromStart") && message.fromStart !== false)
                    writer.uint32(/* id 4, wireType 0 =*/32).bool(message.fromStart);
                if (message.$unknowns != null && $Object.hasOwnProperty.call(message, "$unknowns"))
                    for (let i = 0; i < message.$unknowns.length; ++i)
                        writer.raw(message.$unknowns[i]);
                return writer;
            };

            /**
             * Decodes a Subscribe message from the specified reader or buffer.
             * @function decode
             * @memberof ferry.v1.Subscribe
             * @static
             * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
             * @param {number} [length] Message length if known beforehand
             * @returns {ferry.v1.Subscribe & ferry.v1.Subscribe.$Shape} Subscribe
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            Subscribe.decode = function (reader, length, _end, _depth, _target) {
                if (!(reader instanceof $Reader))
                    reader = $Reader.create(reader);
                if (_depth === $undefined)
                    _depth = 0;
                if (_depth > $Reader.recursionLimit)
                    throw $Error("max depth exceeded");
                let end, message, value;
                if (length === $undefined)
                    end = reader.len;
                else {
                    end = reader.pos + length;
                    if (end > reader.len)
                        throw $RangeError("index out of range");
                    length = reader.len;
                    reader.len = end;
                }
                message = _target || new $root.ferry.v1.Subscribe();
                while (reader.pos < end) {
                    let start = reader.pos;
                    let tag = reader.tag();
                    if (tag === _end) {
                        _end = $undefined;
                        break;
                    }
                    let wireType = tag & 7;
                    switch (tag >>>= 3) {
                    case 1: {
                            if (wireType !== 2)
                                break;
                            if ((value = reader.stringVerify()).length)
                                message.topic = value;
                            else
                                delete message.topic;
                            continue;
                        }
                    case 2: {
                            if (wireType !== 0)
                                break;
                            if (typeof (value = reader.uint64()) === "object" ? value.low || value.high : value !== 0)
                                message.sinceSeq = value;
                            else
                                delete message.sinceSeq;
                            continue;
                        }
                    case 3: {
                            if (wireType !== 2)
                                break;
                            if ((value = reader.stringVerify()).length)
                                message.token = value;
                            else
                                delete message.token;
                            continue;
                        }
                    case 4: {
                            if (wireType !== 0)
                                break;
                            if (value = reader.bool())
                                message.fromStart = value;
                            else
                                delete message.fromStart;
                            continue;
                        }
                    }
                    reader.skipType(wireType, _depth, tag);
                    if (!reader.discardUnknown) {
                        $util.makeProp(message, "$unknowns", false);
                        (message.$unknowns || (message.$unknowns = [])).push(reader.raw(start, reader.pos));
                    }
                }
                if (length !== $undefined) {
                    if (reader.pos !== end)
                        throw $RangeError("index out of range");
                    reader.len = length;
                }
                if (_end !== $undefined)
                    throw $Error("missing end group");
                return message;
            };

            /**
             * Gets the type url for Subscribe
             * @function getTypeUrl
             * @memberof ferry.v1.Subscribe
             * @static
             * @param {string} [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
             * @returns {string} The type url
             */
            Subscribe.getTypeUrl = function(prefix) {
                if (prefix === $undefined)
                    prefix = "type.googleapis.com";
                return prefix + "/ferry.v1.Subscribe";
            };

            return Subscribe;
        })();

        v1.Unsubscribe = (function() {

            /**
             * Properties of an Unsubscribe.
             * @typedef {Object} ferry.v1.Unsubscribe.$Properties
             * @property {string|null} [topic] Unsubscribe topic
             * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
             */

            /**
             * Properties of an Unsubscribe.
             * @memberof ferry.v1
             * @interface IUnsubscribe
             * @augments ferry.v1.Unsubscribe.$Properties
             * @deprecated Use ferry.v1.Unsubscribe.$Properties instead.
             */

            /**
             * Shape of an Unsubscribe.
             * @typedef {ferry.v1.Unsubscribe.$Properties} ferry.v1.Unsubscribe.$Shape
             */

            /**
             * Constructs a new Unsubscribe.
             * @memberof ferry.v1
             * @classdesc Represents an Unsubscribe.
             * @constructor
             * @param {ferry.v1.Unsubscribe.$Properties=} [properties] Properties to set
             * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
             */
            const Unsubscribe = function (properties) {
                if (properties)
                    for (let keys = $Object.keys(properties), i = 0; i < keys.length; ++i)
                        if (properties[keys[i]] != null && keys[i] !== "__proto__")
                            this[keys[i]] = properties[keys[i]];
            };

            /**
             * Unsubscribe topic.
             * @member {string} topic
             * @memberof ferry.v1.Unsubscribe
             * @instance
             */
            Unsubscribe.prototype.topic = "";

            /**
             * Creates a new Unsubscribe instance using the specified properties.
             * @function create
             * @memberof ferry.v1.Unsubscribe
             * @static
             * @param {ferry.v1.Unsubscribe.$Properties=} [properties] Properties to set
             * @returns {ferry.v1.Unsubscribe} Unsubscribe instance
             * @type {{
             *   (properties: ferry.v1.Unsubscribe.$Shape): ferry.v1.Unsubscribe & ferry.v1.Unsubscribe.$Shape;
             *   (properties?: ferry.v1.Unsubscribe.$Properties): ferry.v1.Unsubscribe;
             * }}
             */
            Unsubscribe.create = function(properties) {
                return new Unsubscribe(properties);
            };

            /**
             * Encodes the specified Unsubscribe message. Does not implicitly {@link ferry.v1.Unsubscribe.verify|verify} messages.
             * @function encode
             * @memberof ferry.v1.Unsubscribe
             * @static
             * @param {ferry.v1.Unsubscribe.$Properties} message Unsubscribe message or plain object to encode
             * @param {$protobuf.Writer} [writer] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            Unsubscribe.encode = function (message, writer, _depth) {
                if (!writer)
                    writer = $Writer.create();
                if (_depth === $undefined)
                    _depth = 0;
                if (_depth > $util.recursionLimit)
                    throw $Error("max depth exceeded");
                if (message.topic != null && $Object.hasOwnProperty.call(message, "topic") && message.topic !== "")
                    writer.uint32(/* id 1, wireType 2 =*/10).string(message.topic);
                if (message.$unknowns != null && $Object.hasOwnProperty.call(message, "$unknowns"))
                    for (let i = 0; i < message.$unknowns.length; ++i)
                        writer.raw(message.$unknowns[i]);
                return writer;
            };

            /**
             * Decodes an Unsubscribe message from the specified reader or buffer.
             * @function decode
             * @memberof ferry.v1.Unsubscribe
             * @static
             * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
             * @param {number} [length] Message length if known beforehand
             * @returns {ferry.v1.Unsubscribe & ferry.v1.Unsubscribe.$Shape} Unsubscribe
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            Unsubscribe.decode = function (reader, length, _end, _depth, _target) {
                if (!(reader instanceof $Reader))
                    reader = $Reader.create(reader);
                if (_depth === $undefined)
                    _depth = 0;
                if (_depth > $Reader.recursionLimit)
                    throw $Error("max depth exceeded");
                let end, message, value;
                if (length === $undefined)
                    end = reader.len;
                else {
                    end = reader.pos + length;
                    if (end > reader.len)
                        throw $RangeError("index out of range");
                    length = reader.len;
                    reader.len = end;
                }
                message = _target || new $root.ferry.v1.Unsubscribe();
                while (reader.pos < end) {
                    let start = reader.pos;
                    let tag = reader.tag();
                    if (tag === _end) {
                        _end = $undefined;
                        break;
                    }
                    let wireType = tag & 7;
                    switch (tag >>>= 3) {
                    case 1: {
                            if (wireType !== 2)
                                break;
                            if ((value = reader.stringVerify()).length)
                                message.topic = value;
                            else
                                delete message.topic;
                            continue;
                        }
                    }
                    reader.skipType(wireType, _depth, tag);
                    if (!reader.discardUnknown) {
                        $util.makeProp(message, "$unknowns", false);
                        (message.$unknowns || (message.$unknowns = [])).push(reader.raw(start, reader.pos));
                    }
                }
                if (length !== $undefined) {
                    if (reader.pos !== end)
                        throw $RangeError("index out of range");
                    reader.len = length;
                }
                if (_end !== $undefined)
                    throw $Error("missing end group");
                return message;
            };

            /**
             * Gets the type url for Unsubscribe
             * @function getTypeUrl
             * @memberof ferry.v1.Unsubscribe
             * @static
             * @param {string} [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
             * @returns {string} The type url
             */
            Unsubscribe.getTypeUrl = function(prefix) {
                if (prefix === $undefined)
                    prefix = "type.googleapis.com";
                return prefix + "/ferry.v1.Unsubscribe";
            };

            return Unsubscribe;
        })();

        v1.Publish = (function() {

            /**
             * Properties of a Publish.
             * @typedef {Object} ferry.v1.Publish.$Properties
             * @property {string|null} [topic] Publish topic
             * @property {Uint8Array|null} [payload] Publish payload
             * @property {ferry.v1.QoS|null} [qos] Publish qos
             * @property {string|null} [clientMsgId] Publish clientMsgId
             * @property {boolean|null} [ephemeral] Publish ephemeral
             * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
             */

            /**
             * Properties of a Publish.
             * @memberof ferry.v1
             * @interface IPublish
             * @augments ferry.v1.Publish.$Properties
             * @deprecated Use ferry.v1.Publish.$Properties instead.
             */

            /**
             * Shape of a Publish.
             * @typedef {ferry.v1.Publish.$Properties} ferry.v1.Publish.$Shape
             */

            /**
             * Constructs a new Publish.
             * @memberof ferry.v1
             * @classdesc Represents a Publish.
             * @constructor
             * @param {ferry.v1.Publish.$Properties=} [properties] Properties to set
             * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
             */
            const Publish = function (properties) {
                if (properties)
                    for (let keys = $Object.keys(properties), i = 0; i < keys.length; ++i)
                        if (properties[keys[i]] != null && keys[i] !== "__proto__")
                            this[keys[i]] = properties[keys[i]];
            };

            /**
             * Publish topic.
             * @member {string} topic
             * @memberof ferry.v1.Publish
             * @instance
             */
            Publish.prototype.topic = "";

            /**
             * Publish payload.
             * @member {Uint8Array} payload
             * @memberof ferry.v1.Publish
             * @instance
             */
            Publish.prototype.payload = $util.newBuffer([]);

            /**
             * Publish qos.
             * @member {ferry.v1.QoS} qos
             * @memberof ferry.v1.Publish
             * @instance
             */
            Publish.prototype.qos = 0;

            /**
             * Publish clientMsgId.
             * @member {string} clientMsgId
             * @memberof ferry.v1.Publish
             * @instance
             */
            Publish.prototype.clientMsgId = "";

            /**
             * Publish ephemeral.
             * @member {boolean} ephemeral
             * @memberof ferry.v1.Publish
             * @instance
             */
            Publish.prototype.ephemeral = false;

            /**
             * Creates a new Publish instance using the specified properties.
             * @function create
             * @memberof ferry.v1.Publish
             * @static
             * @param {ferry.v1.Publish.$Properties=} [properties] Properties to set
             * @returns {ferry.v1.Publish} Publish instance
             * @type {{
             *   (properties: ferry.v1.Publish.$Shape): ferry.v1.Publish & ferry.v1.Publish.$Shape;
             *   (properties?: ferry.v1.Publish.$Properties): ferry.v1.Publish;
             * }}
             */
            Publish.create = function(properties) {
                return new Publish(properties);
            };

            /**
             * Encodes the specified Publish message. Does not implicitly {@link ferry.v1.Publish.verify|verify} messages.
             * @function encode
             * @memberof ferry.v1.Publish
             * @static
             * @param {ferry.v1.Publish.$Properties} message Publish message or plain object to encode
             * @param {$protobuf.Writer} [writer] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            Publish.encode = function (message, writer, _depth) {
                if (!writer)
                    writer = $Writer.create();
                if (_depth === $undefined)
                    _depth = 0;
                if (_depth > $util.recursionLimit)
                    throw $Error("max depth exceeded");
                if (message.topic != null && $Object.hasOwnProperty.call(message, "topic") && message.topic !== "")
                    writer.uint32(/* id 1, wireType 2 =*/10).string(message.topic);
                if (message.payload != null && $Object.hasOwnProperty.call(message, "payload") && message.payload.length)
                    writer.uint32(/* id 2, wireType 2 =*/18).bytes(message.payload);
                if (message.qos != null && $Object.hasOwnProperty.call(message, "qos") && message.qos !== 0)
                    writer.uint32(/* id 3, wireType 0 =*/24).int32(message.qos);
                if (message.clientMsgId != null && $Object.hasOwnProperty.call(message, "clientMsgId") && message.clientMsgId !== "")
                    writer.uint32(/* id 4, wireType 2 =*/34).string(message.clientMsgId);
                if (message.ephemeral != null && $Object.hasOwnProperty.call(message, "ephemeral") && message.ephemeral !== false)
                    writer.uint32(/* id 5, wireType 0 =*/40).bool(message.ephemeral);
                if (message.$unknowns != null && $Object.hasOwnProperty.call(message, "$unknowns"))
                    for (let i = 0; i < message.$unknowns.length; ++i)
                        writer.raw(message.$unknowns[i]);
                return writer;
            };

            /**
             * Decodes a Publish message from the specified reader or buffer.
             * @function decode
             * @memberof ferry.v1.Publish
             * @static
             * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
             * @param {number} [length] Message length if known beforehand
             * @returns {ferry.v1.Publish & ferry.v1.Publish.$Shape} Publish
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            Publish.decode = function (reader, length, _end, _depth, _target) {
                if (!(reader instanceof $Reader))
                    reader = $Reader.create(reader);
                if (_depth === $undefined)
                    _depth = 0;
                if (_depth > $Reader.recursionLimit)
                    throw $Error("max depth exceeded");
                let end, message, value;
                if (length === $undefined)
                    end = reader.len;
                else {
                    end = reader.pos + length;
                    if (end > reader.len)
                        throw $RangeError("index out of range");
                    length = reader.len;
                    reader.len = end;
                }
                message = _target || new $root.ferry.v1.Publish();
                while (reader.pos < end) {
                    let start = reader.pos;
                    let tag = reader.tag();
                    if (tag === _end) {
                        _end = $undefined;
                        break;
                    }
                    let wireType = tag & 7;
                    switch (tag >>>= 3) {
                    case 1: {
                            if (wireType !== 2)
                                break;
                            if ((value = reader.stringVerify()).length)
                                message.topic = value;
                            else
                                delete message.topic;
                            continue;
                        }
                    case 2: {
                            if (wireType !== 2)
                                break;
                            if ((value = reader.bytes()).length)
                                message.payload = value;
                            else
                                delete message.payload;
                            continue;
                        }
                    case 3: {
                            if (wireType !== 0)
                                break;
                            if (value = reader.int32())
                                message.qos = value;
                            else
                                delete message.qos;
                            continue;
                        }
                    case 4: {
                            if (wireType !== 2)
                                break;
                            if ((value = reader.stringVerify()).length)
                                message.clientMsgId = value;
                            else
                                delete message.clientMsgId;
                            continue;
                        }
                    case 5: {
                            if (wireType !== 0)
                                break;
                            if (value = reader.bool())
                                message.ephemeral = value;
                            else
                                delete message.ephemeral;
                            continue;
                        }
                    }
                    reader.skipType(wireType, _depth, tag);
                    if (!reader.discardUnknown) {
                        $util.makeProp(message, "$unknowns", false);
                        (message.$unknowns || (message.$unknowns = [])).push(reader.raw(start, reader.pos));
                    }
                }
                if (length !== $undefined) {
                    if (reader.pos !== end)
                        throw $RangeError("index out of range");
                    reader.len = length;
                }
                if (_end !== $undefined)
                    throw $Error("missing end group");
                return message;
            };

            /**
             * Gets the type url for Publish
             * @function getTypeUrl
             * @memberof ferry.v1.Publish
             * @static
             * @param {string} [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
             * @returns {string} The type url
             */
            Publish.getTypeUrl = function(prefix) {
                if (prefix === $undefined)
                    prefix = "type.googleapis.com";
                return prefix + "/ferry.v1.Publish";
            };

            return Publish;
        })();

        v1.PresenceQuery = (function() {

            /**
             * Properties of a PresenceQuery.
             * @typedef {Object} ferry.v1.PresenceQuery.$Properties
             * @property {Array.<string>|null} [userIds] PresenceQuery userIds
             * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
             */

            /**
             * Properties of a PresenceQuery.
             * @memberof ferry.v1
             * @interface IPresenceQuery
             * @augments ferry.v1.PresenceQuery.$Properties
             * @deprecated Use ferry.v1.PresenceQuery.$Properties instead.
             */

            /**
             * Shape of a PresenceQuery.
             * @typedef {ferry.v1.PresenceQuery.$Properties} ferry.v1.PresenceQuery.$Shape
             */

            /**
             * Constructs a new PresenceQuery.
             * @memberof ferry.v1
             * @classdesc Represents a PresenceQuery.
             * @constructor
             * @param {ferry.v1.PresenceQuery.$Properties=} [properties] Properties to set
             * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
             */
            const PresenceQuery = function (properties) {
                this.userIds = [];
                if (properties)
                    for (let keys = $Object.keys(properties), i = 0; i < keys.length; ++i)
                        if (properties[keys[i]] != null && keys[i] !== "__proto__")
                            this[keys[i]] = properties[keys[i]];
            };

            /**
             * PresenceQuery userIds.
             * @member {Array.<string>} userIds
             * @memberof ferry.v1.PresenceQuery
             * @instance
             */
            PresenceQuery.prototype.userIds = $util.emptyArray;

            /**
             * Creates a new PresenceQuery instance using the specified properties.
             * @function create
             * @memberof ferry.v1.PresenceQuery
             * @static
             * @param {ferry.v1.PresenceQuery.$Properties=} [properties] Properties to set
             * @returns {ferry.v1.PresenceQuery} PresenceQuery instance
             * @type {{
             *   (properties: ferry.v1.PresenceQuery.$Shape): ferry.v1.PresenceQuery & ferry.v1.PresenceQuery.$Shape;
             *   (properties?: ferry.v1.PresenceQuery.$Properties): ferry.v1.PresenceQuery;
             * }}
             */
            PresenceQuery.create = function(properties) {
                return new PresenceQuery(properties);
            };

            /**
             * Encodes the specified PresenceQuery message. Does not implicitly {@link ferry.v1.PresenceQuery.verify|verify} messages.
             * @function encode
             * @memberof ferry.v1.PresenceQuery
             * @static
             * @param {ferry.v1.PresenceQuery.$Properties} message PresenceQuery message or plain object to encode
             * @param {$protobuf.Writer} [writer] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            PresenceQuery.encode = function (message, writer, _depth) {
                if (!writer)
                    writer = $Writer.create();
                if (_depth === $undefined)
                    _depth = 0;
                if (_depth > $util.recursionLimit)
                    throw $Error("max depth exceeded");
                if (message.userIds != null && message.userIds.length)
                    for (let i = 0; i < message.userIds.length; ++i)
                        writer.uint32(/* id 1, wireType 2 =*/10).string(message.userIds[i]);
                if (message.$unknowns != null && $Object.hasOwnProperty.call(message, "$unknowns"))
                    for (let i = 0; i < message.$unknowns.length; ++i)
                        writer.raw(message.$unknowns[i]);
                return writer;
            };

            /**
             * Decodes a PresenceQuery message from the specified reader or buffer.
             * @function decode
             * @memberof ferry.v1.PresenceQuery
             * @static
             * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
             * @param {number} [length] Message length if known beforehand
             * @returns {ferry.v1.PresenceQuery & ferry.v1.PresenceQuery.$Shape} PresenceQuery
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            PresenceQuery.decode = function (reader, length, _end, _depth, _target) {
                if (!(reader instanceof $Reader))
                    reader = $Reader.create(reader);
                if (_depth === $undefined)
                    _depth = 0;
                if (_depth > $Reader.recursionLimit)
                    throw $Error("max depth exceeded");
                let end, message;
                if (length === $undefined)
                    end = reader.len;
                else {
                    end = reader.pos + length;
                    if (end > reader.len)
                        throw $RangeError("index out of range");
                    length = reader.len;
                    reader.len = end;
                }
                message = _target || new $root.ferry.v1.PresenceQuery();
                while (reader.pos < end) {
                    let start = reader.pos;
                    let tag = reader.tag();
                    if (tag === _end) {
                        _end = $undefined;
                        break;
                    }
                    let wireType = tag & 7;
                    switch (tag >>>= 3) {
                    case 1: {
                            if (wireType !== 2)
                                break;
                            if (!(message.userIds && message.userIds.length))
                                message.userIds = [];
                            message.userIds.push(reader.stringVerify());
                            continue;
                        }
                    }
                    reader.skipType(wireType, _depth, tag);
                    if (!reader.discardUnknown) {
                        $util.makeProp(message, "$unknowns", false);
                        (message.$unknowns || (message.$unknowns = [])).push(reader.raw(start, reader.pos));
                    }
                }
                if (length !== $undefined) {
                    if (reader.pos !== end)
                        throw $RangeError("index out of range");
                    reader.len = length;
                }
                if (_end !== $undefined)
                    throw $Error("missing end group");
                return message;
            };

            /**
             * Gets the type url for PresenceQuery
             * @function getTypeUrl
             * @memberof ferry.v1.PresenceQuery
             * @static
             * @param {string} [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
             * @returns {string} The type url
             */
            PresenceQuery.getTypeUrl = function(prefix) {
                if (prefix === $undefined)
                    prefix = "type.googleapis.com";
                return prefix + "/ferry.v1.PresenceQuery";
            };

            return PresenceQuery;
        })();

        v1.DevicePresence = (function() {

            /**
             * Properties of a DevicePresence.
             * @typedef {Object} ferry.v1.DevicePresence.$Properties
             * @property {string|null} [deviceId] DevicePresence deviceId
             * @property {string|null} [transport] DevicePresence transport
             * @property {string|null} [nodeId] DevicePresence nodeId
             * @property {number|null} [sinceMs] DevicePresence sinceMs
             * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
             */

            /**
             * Properties of a DevicePresence.
             * @memberof ferry.v1
             * @interface IDevicePresence
             * @augments ferry.v1.DevicePresence.$Properties
             * @deprecated Use ferry.v1.DevicePresence.$Properties instead.
             */

            /**
             * Shape of a DevicePresence.
             * @typedef {ferry.v1.DevicePresence.$Properties} ferry.v1.DevicePresence.$Shape
             */

            /**
             * Constructs a new DevicePresence.
             * @memberof ferry.v1
             * @classdesc Represents a DevicePresence.
             * @constructor
             * @param {ferry.v1.DevicePresence.$Properties=} [properties] Properties to set
             * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
             */
            const DevicePresence = function (properties) {
                if (properties)
                    for (let keys = $Object.keys(properties), i = 0; i < keys.length; ++i)
                        if (properties[keys[i]] != null && keys[i] !== "__proto__")
                            this[keys[i]] = properties[keys[i]];
            };

            /**
             * DevicePresence deviceId.
             * @member {string} deviceId
             * @memberof ferry.v1.DevicePresence
             * @instance
             */
            DevicePresence.prototype.deviceId = "";

            /**
             * DevicePresence transport.
             * @member {string} transport
             * @memberof ferry.v1.DevicePresence
             * @instance
             */
            DevicePresence.prototype.transport = "";

            /**
             * DevicePresence nodeId.
             * @member {string} nodeId
             * @memberof ferry.v1.DevicePresence
             * @instance
             */
            DevicePresence.prototype.nodeId = "";

            /**
             * DevicePresence sinceMs.
             * @member {number} sinceMs
             * @memberof ferry.v1.DevicePresence
             * @instance
             */
            DevicePresence.prototype.sinceMs = $util.Long ? $util.Long.fromBits(0,0,false) : 0;

            /**
             * Creates a new DevicePresence instance using the specified properties.
             * @function create
             * @memberof ferry.v1.DevicePresence
             * @static
             * @param {ferry.v1.DevicePresence.$Properties=} [properties] Properties to set
             * @returns {ferry.v1.DevicePresence} DevicePresence instance
             * @type {{
             *   (properties: ferry.v1.DevicePresence.$Shape): ferry.v1.DevicePresence & ferry.v1.DevicePresence.$Shape;
             *   (properties?: ferry.v1.DevicePresence.$Properties): ferry.v1.DevicePresence;
             * }}
             */
            DevicePresence.create = function(properties) {
                return new DevicePresence(properties);
            };

            /**
             * Encodes the specified DevicePresence message. Does not implicitly {@link ferry.v1.DevicePresence.verify|verify} messages.
             * @function encode
             * @memberof ferry.v1.DevicePresence
             * @static
             * @param {ferry.v1.DevicePresence.$Properties} message DevicePresence message or plain object to encode
             * @param {$protobuf.Writer} [writer] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            DevicePresence.encode = function (message, writer, _depth) {
                if (!writer)
                    writer = $Writer.create();
                if (_depth === $undefined)
                    _depth = 0;
                if (_depth > $util.recursionLimit)
                    throw $Error("max depth exceeded");
                if (message.deviceId != null && $Object.hasOwnProperty.call(message, "deviceId") && message.deviceId !== "")
                    writer.uint32(/* id 1, wireType 2 =*/10).string(message.deviceId);
                if (message.transport != null && $Object.hasOwnProperty.call(message, "transport") && message.transport !== "")
                    writer.uint32(/* id 2, wireType 2 =*/18).string(message.transport);
                if (message.nodeId != null && $Object.hasOwnProperty.call(message, "nodeId") && message.nodeId !== "")
                    writer.uint32(/* id 3, wireType 2 =*/26).string(message.nodeId);
                if (message.sinceMs != null && $Object.hasOwnProperty.call(message, "sinceMs") && (typeof message.sinceMs === "object" ? message.sinceMs.low || message.sinceMs.high : message.sinceMs !== 0))
                    writer.uint32(/* id 4, wireType 0 =*/32).int64(message.sinceMs);
                if (message.$unknowns != null && $Object.hasOwnProperty.call(message, "$unknowns"))
                    for (let i = 0; i < message.$unknowns.length; ++i)
                        writer.raw(message.$unknowns[i]);
                return writer;
            };

            /**
             * Decodes a DevicePresence message from the specified reader or buffer.
             * @function decode
             * @memberof ferry.v1.DevicePresence
             * @static
             * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
             * @param {number} [length] Message length if known beforehand
             * @returns {ferry.v1.DevicePresence & ferry.v1.DevicePresence.$Shape} DevicePresence
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            DevicePresence.decode = function (reader, length, _end, _depth, _target) {
                if (!(reader instanceof $Reader))
                    reader = $Reader.create(reader);
                if (_depth === $undefined)
                    _depth = 0;
                if (_depth > $Reader.recursionLimit)
                    throw $Error("max depth exceeded");
                let end, message, value;
                if (length === $undefined)
                    end = reader.len;
                else {
                    end = reader.pos + length;
                    if (end > reader.len)
                        throw $RangeError("index out of range");
                    length = reader.len;
                    reader.len = end;
                }
                message = _target || new $root.ferry.v1.DevicePresence();
                while (reader.pos < end) {
                    let start = reader.pos;
                    let tag = reader.tag();
                    if (tag === _end) {
                        _end = $undefined;
                        break;
                    }
                    let wireType = tag & 7;
                    switch (tag >>>= 3) {
                    case 1: {
                            if (wireType !== 2)
                                break;
                            if ((value = reader.stringVerify()).length)
                                message.deviceId = value;
                            else
                                delete message.deviceId;
                            continue;
                        }
                    case 2: {
                            if (wireType !== 2)
                                break;
                            if ((value = reader.stringVerify()).length)
                                message.transport = value;
                            else
                                delete message.transport;
                            continue;
                        }
                    case 3: {
                            if (wireType !== 2)
                                break;
                            if ((value = reader.stringVerify()).length)
                                message.nodeId = value;
                            else
                                delete message.nodeId;
                            continue;
                        }
                    case 4: {
                            if (wireType !== 0)
                                break;
                            if (typeof (value = reader.int64()) === "object" ? value.low || value.high : value !== 0)
                                message.sinceMs = value;
                            else
                                delete message.sinceMs;
                            continue;
                        }
                    }
                    reader.skipType(wireType, _depth, tag);
                    if (!reader.discardUnknown) {
                        $util.makeProp(message, "$unknowns", false);
                        (message.$unknowns || (message.$unknowns = [])).push(reader.raw(start, reader.pos));
                    }
                }
                if (length !== $undefined) {
                    if (reader.pos !== end)
                        throw $RangeError("index out of range");
                    reader.len = length;
                }
                if (_end !== $undefined)
                    throw $Error("missing end group");
                return message;
            };

            /**
             * Gets the type url for DevicePresence
             * @function getTypeUrl
             * @memberof ferry.v1.DevicePresence
             * @static
             * @param {string} [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
             * @returns {string} The type url
             */
            DevicePresence.getTypeUrl = function(prefix) {
                if (prefix === $undefined)
                    prefix = "type.googleapis.com";
                return prefix + "/ferry.v1.DevicePresence";
            };

            return DevicePresence;
        })();

        v1.UserPresence = (function() {

            /**
             * Properties of a UserPresence.
             * @typedef {Object} ferry.v1.UserPresence.$Properties
             * @property {string|null} [userId] UserPresence userId
             * @property {boolean|null} [online] UserPresence online
             * @property {Array.<ferry.v1.DevicePresence.$Properties>|null} [devices] UserPresence devices
             * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
             */

            /**
             * Properties of a UserPresence.
             * @memberof ferry.v1
             * @interface IUserPresence
             * @augments ferry.v1.UserPresence.$Properties
             * @deprecated Use ferry.v1.UserPresence.$Properties instead.
             */

            /**
             * Shape of a UserPresence.
             * @typedef {ferry.v1.UserPresence.$Properties} ferry.v1.UserPresence.$Shape
             */

            /**
             * Constructs a new UserPresence.
             * @memberof ferry.v1
             * @classdesc Represents a UserPresence.
             * @constructor
             * @param {ferry.v1.UserPresence.$Properties=} [properties] Properties to set
             * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
             */
            const UserPresence = function (properties) {
                this.devices = [];
                if (properties)
                    for (let keys = $Object.keys(properties), i = 0; i < keys.length; ++i)
                        if (properties[keys[i]] != null && keys[i] !== "__proto__")
                            this[keys[i]] = properties[keys[i]];
            };

            /**
             * UserPresence userId.
             * @member {string} userId
             * @memberof ferry.v1.UserPresence
             * @instance
             */
            UserPresence.prototype.userId = "";

            /**
             * UserPresence online.
             * @member {boolean} online
             * @memberof ferry.v1.UserPresence
             * @instance
             */
            UserPresence.prototype.online = false;

            /**
             * UserPresence devices.
             * @member {Array.<ferry.v1.DevicePresence.$Properties>} devices
             * @memberof ferry.v1.UserPresence
             * @instance
             */
            UserPresence.prototype.devices = $util.emptyArray;

            /**
             * Creates a new UserPresence instance using the specified properties.
             * @function create
             * @memberof ferry.v1.UserPresence
             * @static
             * @param {ferry.v1.UserPresence.$Properties=} [properties] Properties to set
             * @returns {ferry.v1.UserPresence} UserPresence instance
             * @type {{
             *   (properties: ferry.v1.UserPresence.$Shape): ferry.v1.UserPresence & ferry.v1.UserPresence.$Shape;
             *   (properties?: ferry.v1.UserPresence.$Properties): ferry.v1.UserPresence;
             * }}
             */
            UserPresence.create = function(properties) {
                return new UserPresence(properties);
            };

            /**
             * Encodes the specified UserPresence message. Does not implicitly {@link ferry.v1.UserPresence.verify|verify} messages.
             * @function encode
             * @memberof ferry.v1.UserPresence
             * @static
             * @param {ferry.v1.UserPresence.$Properties} message UserPresence message or plain object to encode
             * @param {$protobuf.Writer} [writer] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            UserPresence.encode = function (message, writer, _depth) {
                if (!writer)
                    writer = $Writer.create();
                if (_depth === $undefined)
                    _depth = 0;
                if (_depth > $util.recursionLimit)
                    throw $Error("max depth exceeded");
                if (message.userId != null && $Object.hasOwnProperty.call(message, "userId") && message.userId !== "")
                    writer.uint32(/* id 1, wireType 2 =*/10).string(message.userId);
                if (message.online != null && $Object.hasOwnProperty.call(message, "online") && message.online !== false)
                    writer.uint32(/* id 2, wireType 0 =*/16).bool(message.online);
                if (message.devices != null && message.devices.length)
                    for (let i = 0; i < message.devices.length; ++i)
                        $root.ferry.v1.DevicePresence.encode(message.devices[i], writer.uint32(/* id 3, wireType 2 =*/26).fork(), _depth + 1).ldelim();
                if (message.$unknowns != null && $Object.hasOwnProperty.call(message, "$unknowns"))
                    for (let i = 0; i < message.$unknowns.length; ++i)
                        writer.raw(message.$unknowns[i]);
                return writer;
            };

            /**
             * Decodes a UserPresence message from the specified reader or buffer.
             * @function decode
             * @memberof ferry.v1.UserPresence
             * @static
             * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
             * @param {number} [length] Message length if known beforehand
             * @returns {ferry.v1.UserPresence & ferry.v1.UserPresence.$Shape} UserPresence
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            UserPresence.decode = function (reader, length, _end, _depth, _target) {
                if (!(reader instanceof $Reader))
                    reader = $Reader.create(reader);
                if (_depth === $undefined)
                    _depth = 0;
                if (_depth > $Reader.recursionLimit)
                    throw $Error("max depth exceeded");
                let end, message, value;
                if (length === $undefined)
                    end = reader.len;
                else {
                    end = reader.pos + length;
                    if (end > reader.len)
                        throw $RangeError("index out of range");
                    length = reader.len;
                    reader.len = end;
                }
                message = _target || new $root.ferry.v1.UserPresence();
                while (reader.pos < end) {
                    let start = reader.pos;
                    let tag = reader.tag();
                    if (tag === _end) {
                        _end = $undefined;
                        break;
                    }
                    let wireType = tag & 7;
                    switch (tag >>>= 3) {
                    case 1: {
                            if (wireType !== 2)
                                break;
                            if ((value = reader.stringVerify()).length)
                                message.userId = value;
                            else
                                delete message.userId;
                            continue;
                        }
                    case 2: {
                            if (wireType !== 0)
                                break;
                            if (value = reader.bool())
                                message.online = value;
                            else
                                delete message.online;
                            continue;
                        }
                    case 3: {
                            if (wireType !== 2)
                                break;
                            if (!(message.devices && message.devices.length))
                                message.devices = [];
                            message.devices.push($root.ferry.v1.DevicePresence.decode(reader, reader.size(), $undefined, _depth + 1));
                            continue;
                        }
                    }
                    reader.skipType(wireType, _depth, tag);
                    if (!reader.discardUnknown) {
                        $util.makeProp(message, "$unknowns", false);
                        (message.$unknowns || (message.$unknowns = [])).push(reader.raw(start, reader.pos));
                    }
                }
                if (length !== $undefined) {
                    if (reader.pos !== end)
                        throw $RangeError("index out of range");
                    reader.len = length;
                }
                if (_end !== $undefined)
                    throw $Error("missing end group");
                return message;
            };

            /**
             * Gets the type url for UserPresence
             * @function getTypeUrl
             * @memberof ferry.v1.UserPresence
             * @static
             * @param {string} [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
             * @returns {string} The type url
             */
            UserPresence.getTypeUrl = function(prefix) {
                if (prefix === $undefined)
                    prefix = "type.googleapis.com";
                return prefix + "/ferry.v1.UserPresence";
            };

            return UserPresence;
        })();

        v1.PresenceResult = (function() {

            /**
             * Properties of a PresenceResult.
             * @typedef {Object} ferry.v1.PresenceResult.$Properties
             * @property {Array.<ferry.v1.UserPresence.$Properties>|null} [users] PresenceResult users
             * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
             */

            /**
             * Properties of a PresenceResult.
             * @memberof ferry.v1
             * @interface IPresenceResult
             * @augments ferry.v1.PresenceResult.$Properties
             * @deprecated Use ferry.v1.PresenceResult.$Properties instead.
             */

            /**
             * Shape of a PresenceResult.
             * @typedef {ferry.v1.PresenceResult.$Properties} ferry.v1.PresenceResult.$Shape
             */

            /**
             * Constructs a new PresenceResult.
             * @memberof ferry.v1
             * @classdesc Represents a PresenceResult.
             * @constructor
             * @param {ferry.v1.PresenceResult.$Properties=} [properties] Properties to set
             * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
             */
            const PresenceResult = function (properties) {
                this.users = [];
                if (properties)
                    for (let keys = $Object.keys(properties), i = 0; i < keys.length; ++i)
                        if (properties[keys[i]] != null && keys[i] !== "__proto__")
                            this[keys[i]] = properties[keys[i]];
            };

            /**
             * PresenceResult users.
             * @member {Array.<ferry.v1.UserPresence.$Properties>} users
             * @memberof ferry.v1.PresenceResult
             * @instance
             */
            PresenceResult.prototype.users = $util.emptyArray;

            /**
             * Creates a new PresenceResult instance using the specified properties.
             * @function create
             * @memberof ferry.v1.PresenceResult
             * @static
             * @param {ferry.v1.PresenceResult.$Properties=} [properties] Properties to set
             * @returns {ferry.v1.PresenceResult} PresenceResult instance
             * @type {{
             *   (properties: ferry.v1.PresenceResult.$Shape): ferry.v1.PresenceResult & ferry.v1.PresenceResult.$Shape;
             *   (properties?: ferry.v1.PresenceResult.$Properties): ferry.v1.PresenceResult;
             * }}
             */
            PresenceResult.create = function(properties) {
                return new PresenceResult(properties);
            };

            /**
             * Encodes the specified PresenceResult message. Does not implicitly {@link ferry.v1.PresenceResult.verify|verify} messages.
             * @function encode
             * @memberof ferry.v1.PresenceResult
             * @static
             * @param {ferry.v1.PresenceResult.$Properties} message PresenceResult message or plain object to encode
             * @param {$protobuf.Writer} [writer] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            PresenceResult.encode = function (message, writer, _depth) {
                if (!writer)
                    writer = $Writer.create();
                if (_depth === $undefined)
                    _depth = 0;
                if (_depth > $util.recursionLimit)
                    throw $Error("max depth exceeded");
                if (message.users != null && message.users.length)
                    for (let i = 0; i < message.users.length; ++i)
                        $root.ferry.v1.UserPresence.encode(message.users[i], writer.uint32(/* id 1, wireType 2 =*/10).fork(), _depth + 1).ldelim();
                if (message.$unknowns != null && $Object.hasOwnProperty.call(message, "$unknowns"))
                    for (let i = 0; i < message.$unknowns.length; ++i)
                        writer.raw(message.$unknowns[i]);
                return writer;
            };

            /**
             * Decodes a PresenceResult message from the specified reader or buffer.
             * @function decode
             * @memberof ferry.v1.PresenceResult
             * @static
             * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
             * @param {number} [length] Message length if known beforehand
             * @returns {ferry.v1.PresenceResult & ferry.v1.PresenceResult.$Shape} PresenceResult
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            PresenceResult.decode = function (reader, length, _end, _depth, _target) {
                if (!(reader instanceof $Reader))
                    reader = $Reader.create(reader);
                if (_depth === $undefined)
                    _depth = 0;
                if (_depth > $Reader.recursionLimit)
                    throw $Error("max depth exceeded");
                let end, message;
                if (length === $undefined)
                    end = reader.len;
                else {
                    end = reader.pos + length;
                    if (end > reader.len)
                        throw $RangeError("index out of range");
                    length = reader.len;
                    reader.len = end;
                }
                message = _target || new $root.ferry.v1.PresenceResult();
                while (reader.pos < end) {
                    let start = reader.pos;
                    let tag = reader.tag();
                    if (tag === _end) {
                        _end = $undefined;
                        break;
                    }
                    let wireType = tag & 7;
                    switch (tag >>>= 3) {
                    case 1: {
                            if (wireType !== 2)
                                break;
                            if (!(message.users && message.users.length))
                                message.users = [];
                            message.users.push($root.ferry.v1.UserPresence.decode(reader, reader.size(), $undefined, _depth + 1));
                            continue;
                        }
                    }
                    reader.skipType(wireType, _depth, tag);
                    if (!reader.discardUnknown) {
                        $util.makeProp(message, "$unknowns", false);
                        (message.$unknowns || (message.$unknowns = [])).push(reader.raw(start, reader.pos));
                    }
                }
                if (length !== $undefined) {
                    if (reader.pos !== end)
                        throw $RangeError("index out of range");
                    reader.len = length;
                }
                if (_end !== $undefined)
                    throw $Error("missing end group");
                return message;
            };

            /**
             * Gets the type url for PresenceResult
             * @function getTypeUrl
             * @memberof ferry.v1.PresenceResult
             * @static
             * @param {string} [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
             * @returns {string} The type url
             */
            PresenceResult.getTypeUrl = function(prefix) {
                if (prefix === $undefined)
                    prefix = "type.googleapis.com";
                return prefix + "/ferry.v1.PresenceResult";
            };

            return PresenceResult;
        })();

        v1.Reply = (function() {

            /**
             * Properties of a Reply.
             * @typedef {Object} ferry.v1.Reply.$Properties
             * @property {number|null} [topicSeq] Reply topicSeq
             * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
             */

            /**
             * Properties of a Reply.
             * @memberof ferry.v1
             * @interface IReply
             * @augments ferry.v1.Reply.$Properties
             * @deprecated Use ferry.v1.Reply.$Properties instead.
             */

            /**
             * Shape of a Reply.
             * @typedef {ferry.v1.Reply.$Properties} ferry.v1.Reply.$Shape
             */

            /**
             * Constructs a new Reply.
             * @memberof ferry.v1
             * @classdesc Represents a Reply.
             * @constructor
             * @param {ferry.v1.Reply.$Properties=} [properties] Properties to set
             * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
             */
            const Reply = function (properties) {
                if (properties)
                    for (let keys = $Object.keys(properties), i = 0; i < keys.length; ++i)
                        if (properties[keys[i]] != null && keys[i] !== "__proto__")
                            this[keys[i]] = properties[keys[i]];
            };

            /**
             * Reply topicSeq.
             * @member {number} topicSeq
             * @memberof ferry.v1.Reply
             * @instance
             */
            Reply.prototype.topicSeq = $util.Long ? $util.Long.fromBits(0,0,true) : 0;

            /**
             * Creates a new Reply instance using the specified properties.
             * @function create
             * @memberof ferry.v1.Reply
             * @static
             * @param {ferry.v1.Reply.$Properties=} [properties] Properties to set
             * @returns {ferry.v1.Reply} Reply instance
             * @type {{
             *   (properties: ferry.v1.Reply.$Shape): ferry.v1.Reply & ferry.v1.Reply.$Shape;
             *   (properties?: ferry.v1.Reply.$Properties): ferry.v1.Reply;
             * }}
             */
            Reply.create = function(properties) {
                return new Reply(properties);
            };

            /**
             * Encodes the specified Reply message. Does not implicitly {@link ferry.v1.Reply.verify|verify} messages.
             * @function encode
             * @memberof ferry.v1.Reply
             * @static
             * @param {ferry.v1.Reply.$Properties} message Reply message or plain object to encode
             * @param {$protobuf.Writer} [writer] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            Reply.encode = function (message, writer, _depth) {
                if (!writer)
                    writer = $Writer.create();
                if (_depth === $undefined)
                    _depth = 0;
                if (_depth > $util.recursionLimit)
                    throw $Error("max depth exceeded");
                if (message.topicSeq != null && $Object.hasOwnProperty.call(message, "topicSeq") && (typeof message.topicSeq === "object" ? message.topicSeq.low || message.topicSeq.high : message.topicSeq !== 0))
                    writer.uint32(/* id 1, wireType 0 =*/8).uint64(message.topicSeq);
                if (message.$unknowns != null && $Object.hasOwnProperty.call(message, "$unknowns"))
                    for (let i = 0; i < message.$unknowns.length; ++i)
                        writer.raw(message.$unknowns[i]);
                return writer;
            };

            /**
             * Decodes a Reply message from the specified reader or buffer.
             * @function decode
             * @memberof ferry.v1.Reply
             * @static
             * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
             * @param {number} [length] Message length if known beforehand
             * @returns {ferry.v1.Reply & ferry.v1.Reply.$Shape} Reply
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            Reply.decode = function (reader, length, _end, _depth, _target) {
                if (!(reader instanceof $Reader))
                    reader = $Reader.create(reader);
                if (_depth === $undefined)
                    _depth = 0;
                if (_depth > $Reader.recursionLimit)
                    throw $Error("max depth exceeded");
                let end, message, value;
                if (length === $undefined)
                    end = reader.len;
                else {
                    end = reader.pos + length;
                    if (end > reader.len)
                        throw $RangeError("index out of range");
                    length = reader.len;
                    reader.len = end;
                }
                message = _target || new $root.ferry.v1.Reply();
                while (reader.pos < end) {
                    let start = reader.pos;
                    let tag = reader.tag();
                    if (tag === _end) {
                        _end = $undefined;
                        break;
                    }
                    let wireType = tag & 7;
                    switch (tag >>>= 3) {
                    case 1: {
                            if (wireType !== 0)
                                break;
                            if (typeof (value = reader.uint64()) === "object" ? value.low || value.high : value !== 0)
                                message.topicSeq = value;
                            else
                                delete message.topicSeq;
                            continue;
                        }
                    }
                    reader.skipType(wireType, _depth, tag);
                    if (!reader.discardUnknown) {
                        $util.makeProp(message, "$unknowns", false);
                        (message.$unknowns || (message.$unknowns = [])).push(reader.raw(start, reader.pos));
                    }
                }
                if (length !== $undefined) {
                    if (reader.pos !== end)
                        throw $RangeError("index out of range");
                    reader.len = length;
                }
                if (_end !== $undefined)
                    throw $Error("missing end group");
                return message;
            };

            /**
             * Gets the type url for Reply
             * @function getTypeUrl
             * @memberof ferry.v1.Reply
             * @static
             * @param {string} [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
             * @returns {string} The type url
             */
            Reply.getTypeUrl = function(prefix) {
                if (prefix === $undefined)
                    prefix = "type.googleapis.com";
                return prefix + "/ferry.v1.Reply";
            };

            return Reply;
        })();

        v1.Error = (function() {

            /**
             * Properties of an Error.
             * @typedef {Object} ferry.v1.Error.$Properties
             * @property {number|null} [code] Error code
             * @property {string|null} [message] Error message
             * @property {boolean|null} [retryable] Error retryable
             * @property {number|null} [retryAfterMs] Error retryAfterMs
             * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
             */

            /**
             * Properties of an Error.
             * @memberof ferry.v1
             * @interface IError
             * @augments ferry.v1.Error.$Properties
             * @deprecated Use ferry.v1.Error.$Properties instead.
             */

            /**
             * Shape of an Error.
             * @typedef {ferry.v1.Error.$Properties} ferry.v1.Error.$Shape
             */

            /**
             * Constructs a new Error.
             * @memberof ferry.v1
             * @classdesc Represents an Error.
             * @constructor
             * @param {ferry.v1.Error.$Properties=} [properties] Properties to set
             * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
             */
            const Error = function (properties) {
                if (properties)
                    for (let keys = $Object.keys(properties), i = 0; i < keys.length; ++i)
                        if (properties[keys[i]] != null && keys[i] !== "__proto__")
                            this[keys[i]] = properties[keys[i]];
            };

            /**
             * Error code.
             * @member {number} code
             * @memberof ferry.v1.Error
             * @instance
             */
            Error.prototype.code = 0;

            /**
             * Error message.
             * @member {string} message
             * @memberof ferry.v1.Error
             * @instance
             */
            Error.prototype.message = "";

            /**
             * Error retryable.
             * @member {boolean} retryable
             * @memberof ferry.v1.Error
             * @instance
             */
            Error.prototype.retryable = false;

            /**
             * Error retryAfterMs.
             * @member {number} retryAfterMs
             * @memberof ferry.v1.Error
             * @instance
             */
            Error.prototype.retryAfterMs = 0;

            /**
             * Creates a new Error instance using the specified properties.
             * @function create
             * @memberof ferry.v1.Error
             * @static
             * @param {ferry.v1.Error.$Properties=} [properties] Properties to set
             * @returns {ferry.v1.Error} Error instance
             * @type {{
             *   (properties: ferry.v1.Error.$Shape): ferry.v1.Error & ferry.v1.Error.$Shape;
             *   (properties?: ferry.v1.Error.$Properties): ferry.v1.Error;
             * }}
             */
            Error.create = function(properties) {
                return new Error(properties);
            };

            /**
             * Encodes the specified Error message. Does not implicitly {@link ferry.v1.Error.verify|verify} messages.
             * @function encode
             * @memberof ferry.v1.Error
             * @static
             * @param {ferry.v1.Error.$Properties} message Error message or plain object to encode
             * @param {$protobuf.Writer} [writer] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            Error.encode = function (message, writer, _depth) {
                if (!writer)
                    writer = $Writer.create();
                if (_depth === $undefined)
                    _depth = 0;
                if (_depth > $util.recursionLimit)
                    throw $Error("max depth exceeded");
                if (message.code != null && $Object.hasOwnProperty.call(message, "code") && message.code !== 0)
                    writer.uint32(/* id 1, wireType 0 =*/8).uint32(message.code);
                if (message.message != null && $Object.hasOwnProperty.call(message, "message") && message.message !== "")
                    writer.uint32(/* id 2, wireType 2 =*/18).string(message.message);
                if (message.retryable != null && $Object.hasOwnProperty.call(message, "retryable") && message.retryable !== false)
                    writer.uint32(/* id 3, wireType 0 =*/24).bool(message.retryable);
                if (message.retryAfterMs != null && $Object.hasOwnProperty.call(message, "retryAfterMs") && message.retryAfterMs !== 0)
                    writer.uint32(/* id 4, wireType 0 =*/32).uint32(message.retryAfterMs);
                if (message.$unknowns != null && $Object.hasOwnProperty.call(message, "$unknowns"))
                    for (let i = 0; i < message.$unknowns.length; ++i)
                        writer.raw(message.$unknowns[i]);
                return writer;
            };

            /**
             * Decodes an Error message from the specified reader or buffer.
             * @function decode
             * @memberof ferry.v1.Error
             * @static
             * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
             * @param {number} [length] Message length if known beforehand
             * @returns {ferry.v1.Error & ferry.v1.Error.$Shape} Error
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            Error.decode = function (reader, length, _end, _depth, _target) {
                if (!(reader instanceof $Reader))
                    reader = $Reader.create(reader);
                if (_depth === $undefined)
                    _depth = 0;
                if (_depth > $Reader.recursionLimit)
                    throw $Error("max depth exceeded");
                let end, message, value;
                if (length === $undefined)
                    end = reader.len;
                else {
                    end = reader.pos + length;
                    if (end > reader.len)
                        throw $RangeError("index out of range");
                    length = reader.len;
                    reader.len = end;
                }
                message = _target || new $root.ferry.v1.Error();
                while (reader.pos < end) {
                    let start = reader.pos;
                    let tag = reader.tag();
                    if (tag === _end) {
                        _end = $undefined;
                        break;
                    }
                    let wireType = tag & 7;
                    switch (tag >>>= 3) {
                    case 1: {
                            if (wireType !== 0)
                                break;
                            if (value = reader.uint32())
                                message.code = value;
                            else
                                delete message.code;
                            continue;
                        }
                    case 2: {
                            if (wireType !== 2)
                                break;
                            if ((value = reader.stringVerify()).length)
                                message.message = value;
                            else
                                delete message.message;
                            continue;
                        }
                    case 3: {
                            if (wireType !== 0)
                                break;
                            if (value = reader.bool())
                                message.retryable = value;
                            else
                                delete message.retryable;
                            continue;
                        }
                    case 4: {
                            if (wireType !== 0)
                                break;
                            if (value = reader.uint32())
                                message.retryAfterMs = value;
                            else
                                delete message.retryAfterMs;
                            continue;
                        }
                    }
                    reader.skipType(wireType, _depth, tag);
                    if (!reader.discardUnknown) {
                        $util.makeProp(message, "$unknowns", false);
                        (message.$unknowns || (message.$unknowns = [])).push(reader.raw(start, reader.pos));
                    }
                }
                if (length !== $undefined) {
                    if (reader.pos !== end)
                        throw $RangeError("index out of range");
                    reader.len = length;
                }
                if (_end !== $undefined)
                    throw $Error("missing end group");
                return message;
            };

            /**
             * Gets the type url for Error
             * @function getTypeUrl
             * @memberof ferry.v1.Error
             * @static
             * @param {string} [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
             * @returns {string} The type url
             */
            Error.getTypeUrl = function(prefix) {
                if (prefix === $undefined)
                    prefix = "type.googleapis.com";
                return prefix + "/ferry.v1.Error";
            };

            return Error;
        })();

        v1.Disconnect = (function() {

            /**
             * Properties of a Disconnect.
             * @typedef {Object} ferry.v1.Disconnect.$Properties
             * @property {number|null} [code] Disconnect code
             * @property {string|null} [reason] Disconnect reason
             * @property {boolean|null} [reconnect] Disconnect reconnect
             * @property {number|null} [reconnectDelayMs] Disconnect reconnectDelayMs
             * @property {string|null} [reconnectUrl] Disconnect reconnectUrl
             * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
             */

            /**
             * Properties of a Disconnect.
             * @memberof ferry.v1
             * @interface IDisconnect
             * @augments ferry.v1.Disconnect.$Properties
             * @deprecated Use ferry.v1.Disconnect.$Properties instead.
             */

            /**
             * Shape of a Disconnect.
             * @typedef {ferry.v1.Disconnect.$Properties} ferry.v1.Disconnect.$Shape
             */

            /**
             * Constructs a new Disconnect.
             * @memberof ferry.v1
             * @classdesc Represents a Disconnect.
             * @constructor
             * @param {ferry.v1.Disconnect.$Properties=} [properties] Properties to set
             * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
             */
            const Disconnect = function (properties) {
                if (properties)
                    for (let keys = $Object.keys(properties), i = 0; i < keys.length; ++i)
                        if (properties[keys[i]] != null && keys[i] !== "__proto__")
                            this[keys[i]] = properties[keys[i]];
            };

            /**
             * Disconnect code.
             * @member {number} code
             * @memberof ferry.v1.Disconnect
             * @instance
             */
            Disconnect.prototype.code = 0;

            /**
             * Disconnect reason.
             * @member {string} reason
             * @memberof ferry.v1.Disconnect
             * @instance
             */
            Disconnect.prototype.reason = "";

            /**
             * Disconnect reconnect.
             * @member {boolean} reconnect
             * @memberof ferry.v1.Disconnect
             * @instance
             */
            Disconnect.prototype.reconnect = false;

            /**
             * Disconnect reconnectDelayMs.
             * @member {number} reconnectDelayMs
             * @memberof ferry.v1.Disconnect
             * @instance
             */
            Disconnect.prototype.reconnectDelayMs = 0;

            /**
             * Disconnect reconnectUrl.
             * @member {string} reconnectUrl
             * @memberof ferry.v1.Disconnect
             * @instance
             */
            Disconnect.prototype.reconnectUrl = "";

            /**
             * Creates a new Disconnect instance using the specified properties.
             * @function create
             * @memberof ferry.v1.Disconnect
             * @static
             * @param {ferry.v1.Disconnect.$Properties=} [properties] Properties to set
             * @returns {ferry.v1.Disconnect} Disconnect instance
             * @type {{
             *   (properties: ferry.v1.Disconnect.$Shape): ferry.v1.Disconnect & ferry.v1.Disconnect.$Shape;
             *   (properties?: ferry.v1.Disconnect.$Properties): ferry.v1.Disconnect;
             * }}
             */
            Disconnect.create = function(properties) {
                return new Disconnect(properties);
            };

            /**
             * Encodes the specified Disconnect message. Does not implicitly {@link ferry.v1.Disconnect.verify|verify} messages.
             * @function encode
             * @memberof ferry.v1.Disconnect
             * @static
             * @param {ferry.v1.Disconnect.$Properties} message Disconnect message or plain object to encode
             * @param {$protobuf.Writer} [writer] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            Disconnect.encode = function (message, writer, _depth) {
                if (!writer)
                    writer = $Writer.create();
                if (_depth === $undefined)
                    _depth = 0;
                if (_depth > $util.recursionLimit)
                    throw $Error("max depth exceeded");
                if (message.code != null && $Object.hasOwnProperty.call(message, "code") && message.code !== 0)
                    writer.uint32(/* id 1, wireType 0 =*/8).uint32(message.code);
                if (message.reason != null && $Object.hasOwnProperty.call(message, "reason") && message.reason !== "")
                    writer.uint32(/* id 2, wireType 2 =*/18).string(message.reason);
                if (message.reconnect != null && $Object.hasOwnProperty.call(message, "reconnect") && message.reconnect !== false)
                    writer.uint32(/* id 3, wireType 0 =*/24).bool(message.reconnect);
                if (message.reconnectDelayMs != null && $Object.hasOwnProperty.call(message, "reconnectDelayMs") && message.reconnectDelayMs !== 0)
                    writer.uint32(/* id 4, wireType 0 =*/32).uint32(message.reconnectDelayMs);
                if (message.reconnectUrl != null && $Object.hasOwnProperty.call(message, "reconnectUrl") && message.reconnectUrl !== "")
                    writer.uint32(/* id 5, wireType 2 =*/42).string(message.reconnectUrl);
                if (message.$unknowns != null && $Object.hasOwnProperty.call(message, "$unknowns"))
                    for (let i = 0; i < message.$unknowns.length; ++i)
                        writer.raw(message.$unknowns[i]);
                return writer;
            };

            /**
             * Decodes a Disconnect message from the specified reader or buffer.
             * @function decode
             * @memberof ferry.v1.Disconnect
             * @static
             * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
             * @param {number} [length] Message length if known beforehand
             * @returns {ferry.v1.Disconnect & ferry.v1.Disconnect.$Shape} Disconnect
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            Disconnect.decode = function (reader, length, _end, _depth, _target) {
                if (!(reader instanceof $Reader))
                    reader = $Reader.create(reader);
                if (_depth === $undefined)
                    _depth = 0;
                if (_depth > $Reader.recursionLimit)
                    throw $Error("max depth exceeded");
                let end, message, value;
                if (length === $undefined)
                    end = reader.len;
                else {
                    end = reader.pos + length;
                    if (end > reader.len)
                        throw $RangeError("index out of range");
                    length = reader.len;
                    reader.len = end;
                }
                message = _target || new $root.ferry.v1.Disconnect();
                while (reader.pos < end) {
                    let start = reader.pos;
                    let tag = reader.tag();
                    if (tag === _end) {
                        _end = $undefined;
                        break;
                    }
                    let wireType = tag & 7;
                    switch (tag >>>= 3) {
                    case 1: {
                            if (wireType !== 0)
                                break;
                            if (value = reader.uint32())
                                message.code = value;
                            else
                                delete message.code;
                            continue;
                        }
                    case 2: {
                            if (wireType !== 2)
                                break;
                            if ((value = reader.stringVerify()).length)
                                message.reason = value;
                            else
                                delete message.reason;
                            continue;
                        }
                    case 3: {
                            if (wireType !== 0)
                                break;
                            if (value = reader.bool())
                                message.reconnect = value;
                            else
                                delete message.reconnect;
                            continue;
                        }
                    case 4: {
                            if (wireType !== 0)
                                break;
                            if (value = reader.uint32())
                                message.reconnectDelayMs = value;
                            else
                                delete message.reconnectDelayMs;
                            continue;
                        }
                    case 5: {
                            if (wireType !== 2)
                                break;
                            if ((value = reader.stringVerify()).length)
                                message.reconnectUrl = value;
                            else
                                delete message.reconnectUrl;
                            continue;
                        }
                    }
                    reader.skipType(wireType, _depth, tag);
                    if (!reader.discardUnknown) {
                        $util.makeProp(message, "$unknowns", false);
                        (message.$unknowns || (message.$unknowns = [])).push(reader.raw(start, reader.pos));
                    }
                }
                if (length !== $undefined) {
                    if (reader.pos !== end)
                        throw $RangeError("index out of range");
                    reader.len = length;
                }
                if (_end !== $undefined)
                    throw $Error("missing end group");
                return message;
            };

            /**
             * Gets the type url for Disconnect
             * @function getTypeUrl
             * @memberof ferry.v1.Disconnect
             * @static
             * @param {string} [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
             * @returns {string} The type url
             */
            Disconnect.getTypeUrl = function(prefix) {
                if (prefix === $undefined)
                    prefix = "type.googleapis.com";
                return prefix + "/ferry.v1.Disconnect";
            };

            return Disconnect;
        })();

        v1.ServiceRequest = (function() {

            /**
             * Properties of a ServiceRequest.
             * @typedef {Object} ferry.v1.ServiceRequest.$Properties
             * @property {number|null} [type] ServiceRequest type
             * @property {Uint8Array|null} [payload] ServiceRequest payload
             * @property {string|null} [msgId] ServiceRequest msgId
             * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
             */

            /**
             * Properties of a ServiceRequest.
             * @memberof ferry.v1
             * @interface IServiceRequest
             * @augments ferry.v1.ServiceRequest.$Properties
             * @deprecated Use ferry.v1.ServiceRequest.$Properties instead.
             */

            /**
             * Shape of a ServiceRequest.
             * @typedef {ferry.v1.ServiceRequest.$Properties} ferry.v1.ServiceRequest.$Shape
             */

            /**
             * Constructs a new ServiceRequest.
             * @memberof ferry.v1
             * @classdesc Represents a ServiceRequest.
             * @constructor
             * @param {ferry.v1.ServiceRequest.$Properties=} [properties] Properties to set
             * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
             */
            const ServiceRequest = function (properties) {
                if (properties)
                    for (let keys = $Object.keys(properties), i = 0; i < keys.length; ++i)
                        if (properties[keys[i]] != null && keys[i] !== "__proto__")
                            this[keys[i]] = properties[keys[i]];
            };

            /**
             * ServiceRequest type.
             * @member {number} type
             * @memberof ferry.v1.ServiceRequest
             * @instance
             */
            ServiceRequest.prototype.type = 0;

            /**
             * ServiceRequest payload.
             * @member {Uint8Array} payload
             * @memberof ferry.v1.ServiceRequest
             * @instance
             */
            ServiceRequest.prototype.payload = $util.newBuffer([]);

            /**
             * ServiceRequest msgId.
             * @member {string} msgId
             * @memberof ferry.v1.ServiceRequest
             * @instance
             */
            ServiceRequest.prototype.msgId = "";

            /**
             * Creates a new ServiceRequest instance using the specified properties.
             * @function create
             * @memberof ferry.v1.ServiceRequest
             * @static
             * @param {ferry.v1.ServiceRequest.$Properties=} [properties] Properties to set
             * @returns {ferry.v1.ServiceRequest} ServiceRequest instance
             * @type {{
             *   (properties: ferry.v1.ServiceRequest.$Shape): ferry.v1.ServiceRequest & ferry.v1.ServiceRequest.$Shape;
             *   (properties?: ferry.v1.ServiceRequest.$Properties): ferry.v1.ServiceRequest;
             * }}
             */
            ServiceRequest.create = function(properties) {
                return new ServiceRequest(properties);
            };

            /**
             * Encodes the specified ServiceRequest message. Does not implicitly {@link ferry.v1.ServiceRequest.verify|verify} messages.
             * @function encode
             * @memberof ferry.v1.ServiceRequest
             * @static
             * @param {ferry.v1.ServiceRequest.$Properties} message ServiceRequest message or plain object to encode
             * @param {$protobuf.Writer} [writer] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            ServiceRequest.encode = function (message, writer, _depth) {
                if (!writer)
                    writer = $Writer.create();
                if (_depth === $undefined)
                    _depth = 0;
                if (_depth > $util.recursionLimit)
                    throw $Error("max depth exceeded");
                if (message.type != null && $Object.hasOwnProperty.call(message, "type") && message.type !== 0)
                    writer.uint32(/* id 1, wireType 0 =*/8).uint32(message.type);
                if (message.payload != null && $Object.hasOwnProperty.call(message, "payload") && message.payload.length)
                    writer.uint32(/* id 2, wireType 2 =*/18).bytes(message.payload);
                if (message.msgId != null && $Object.hasOwnProperty.call(message, "msgId") && message.msgId !== "")
                    writer.uint32(/* id 3, wireType 2 =*/26).string(message.msgId);
                if (message.$unknowns != null && $Object.hasOwnProperty.call(message, "$unknowns"))
                    for (let i = 0; i < message.$unknowns.length; ++i)
                        writer.raw(message.$unknowns[i]);
                return writer;
            };

            /**
             * Decodes a ServiceRequest message from the specified reader or buffer.
             * @function decode
             * @memberof ferry.v1.ServiceRequest
             * @static
             * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
             * @param {number} [length] Message length if known beforehand
             * @returns {ferry.v1.ServiceRequest & ferry.v1.ServiceRequest.$Shape} ServiceRequest
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            ServiceRequest.decode = function (reader, length, _end, _depth, _target) {
                if (!(reader instanceof $Reader))
                    reader = $Reader.create(reader);
                if (_depth === $undefined)
                    _depth = 0;
                if (_depth > $Reader.recursionLimit)
                    throw $Error("max depth exceeded");
                let end, message, value;
                if (length === $undefined)
                    end = reader.len;
                else {
                    end = reader.pos + length;
                    if (end > reader.len)
                        throw $RangeError("index out of range");
                    length = reader.len;
                    reader.len = end;
                }
                message = _target || new $root.ferry.v1.ServiceRequest();
                while (reader.pos < end) {
                    let start = reader.pos;
                    let tag = reader.tag();
                    if (tag === _end) {
                        _end = $undefined;
                        break;
                    }
                    let wireType = tag & 7;
                    switch (tag >>>= 3) {
                    case 1: {
                            if (wireType !== 0)
                                break;
                            if (value = reader.uint32())
                                message.type = value;
                            else
                                delete message.type;
                            continue;
                        }
                    case 2: {
                            if (wireType !== 2)
                                break;
                            if ((value = reader.bytes()).length)
                                message.payload = value;
                            else
                                delete message.payload;
                            continue;
                        }
                    case 3: {
                            if (wireType !== 2)
                                break;
                            if ((value = reader.stringVerify()).length)
                                message.msgId = value;
                            else
                                delete message.msgId;
                            continue;
                        }
                    }
                    reader.skipType(wireType, _depth, tag);
                    if (!reader.discardUnknown) {
                        $util.makeProp(message, "$unknowns", false);
                        (message.$unknowns || (message.$unknowns = [])).push(reader.raw(start, reader.pos));
                    }
                }
                if (length !== $undefined) {
                    if (reader.pos !== end)
                        throw $RangeError("index out of range");
                    reader.len = length;
                }
                if (_end !== $undefined)
                    throw $Error("missing end group");
                return message;
            };

            /**
             * Gets the type url for ServiceRequest
             * @function getTypeUrl
             * @memberof ferry.v1.ServiceRequest
             * @static
             * @param {string} [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
             * @returns {string} The type url
             */
            ServiceRequest.getTypeUrl = function(prefix) {
                if (prefix === $undefined)
                    prefix = "type.googleapis.com";
                return prefix + "/ferry.v1.ServiceRequest";
            };

            return ServiceRequest;
        })();

        v1.ServiceAck = (function() {

            /**
             * Properties of a ServiceAck.
             * @typedef {Object} ferry.v1.ServiceAck.$Properties
             * @property {string|null} [msgId] ServiceAck msgId
             * @property {string|null} [service] ServiceAck service
             * @property {boolean|null} [duplicate] ServiceAck duplicate
             * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
             */

            /**
             * Properties of a ServiceAck.
             * @memberof ferry.v1
             * @interface IServiceAck
             * @augments ferry.v1.ServiceAck.$Properties
             * @deprecated Use ferry.v1.ServiceAck.$Properties instead.
             */

            /**
             * Shape of a ServiceAck.
             * @typedef {ferry.v1.ServiceAck.$Properties} ferry.v1.ServiceAck.$Shape
             */

            /**
             * Constructs a new ServiceAck.
             * @memberof ferry.v1
             * @classdesc Represents a ServiceAck.
             * @constructor
             * @param {ferry.v1.ServiceAck.$Properties=} [properties] Properties to set
             * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
             */
            const ServiceAck = function (properties) {
                if (properties)
                    for (let keys = $Object.keys(properties), i = 0; i < keys.length; ++i)
                        if (properties[keys[i]] != null && keys[i] !== "__proto__")
                            this[keys[i]] = properties[keys[i]];
            };

            /**
             * ServiceAck msgId.
             * @member {string} msgId
             * @memberof ferry.v1.ServiceAck
             * @instance
             */
            ServiceAck.prototype.msgId = "";

            /**
             * ServiceAck service.
             * @member {string} service
             * @memberof ferry.v1.ServiceAck
             * @instance
             */
            ServiceAck.prototype.service = "";

            /**
             * ServiceAck duplicate.
             * @member {boolean} duplicate
             * @memberof ferry.v1.ServiceAck
             * @instance
             */
            ServiceAck.prototype.duplicate = false;

            /**
             * Creates a new ServiceAck instance using the specified properties.
             * @function create
             * @memberof ferry.v1.ServiceAck
             * @static
             * @param {ferry.v1.ServiceAck.$Properties=} [properties] Properties to set
             * @returns {ferry.v1.ServiceAck} ServiceAck instance
             * @type {{
             *   (properties: ferry.v1.ServiceAck.$Shape): ferry.v1.ServiceAck & ferry.v1.ServiceAck.$Shape;
             *   (properties?: ferry.v1.ServiceAck.$Properties): ferry.v1.ServiceAck;
             * }}
             */
            ServiceAck.create = function(properties) {
                return new ServiceAck(properties);
            };

            /**
             * Encodes the specified ServiceAck message. Does not implicitly {@link ferry.v1.ServiceAck.verify|verify} messages.
             * @function encode
             * @memberof ferry.v1.ServiceAck
             * @static
             * @param {ferry.v1.ServiceAck.$Properties} message ServiceAck message or plain object to encode
             * @param {$protobuf.Writer} [writer] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            ServiceAck.encode = function (message, writer, _depth) {
                if (!writer)
                    writer = $Writer.create();
                if (_depth === $undefined)
                    _depth = 0;
                if (_depth > $util.recursionLimit)
                    throw $Error("max depth exceeded");
                if (message.msgId != null && $Object.hasOwnProperty.call(message, "msgId") && message.msgId !== "")
                    writer.uint32(/* id 1, wireType 2 =*/10).string(message.msgId);
                if (message.service != null && $Object.hasOwnProperty.call(message, "service") && message.service !== "")
                    writer.uint32(/* id 2, wireType 2 =*/18).string(message.service);
                if (message.duplicate != null && $Object.hasOwnProperty.call(message, "duplicate") && message.duplicate !== false)
                    writer.uint32(/* id 3, wireType 0 =*/24).bool(message.duplicate);
                if (message.$unknowns != null && $Object.hasOwnProperty.call(message, "$unknowns"))
                    for (let i = 0; i < message.$unknowns.length; ++i)
                        writer.raw(message.$unknowns[i]);
                return writer;
            };

            /**
             * Decodes a ServiceAck message from the specified reader or buffer.
             * @function decode
             * @memberof ferry.v1.ServiceAck
             * @static
             * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
             * @param {number} [length] Message length if known beforehand
             * @returns {ferry.v1.ServiceAck & ferry.v1.ServiceAck.$Shape} ServiceAck
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            ServiceAck.decode = function (reader, length, _end, _depth, _target) {
                if (!(reader instanceof $Reader))
                    reader = $Reader.create(reader);
                if (_depth === $undefined)
                    _depth = 0;
                if (_depth > $Reader.recursionLimit)
                    throw $Error("max depth exceeded");
                let end, message, value;
                if (length === $undefined)
                    end = reader.len;
                else {
                    end = reader.pos + length;
                    if (end > reader.len)
                        throw $RangeError("index out of range");
                    length = reader.len;
                    reader.len = end;
                }
                message = _target || new $root.ferry.v1.ServiceAck();
                while (reader.pos < end) {
                    let start = reader.pos;
                    let tag = reader.tag();
                    if (tag === _end) {
                        _end = $undefined;
                        break;
                    }
                    let wireType = tag & 7;
                    switch (tag >>>= 3) {
                    case 1: {
                            if (wireType !== 2)
                                break;
                            if ((value = reader.stringVerify()).length)
                                message.msgId = value;
                            else
                                delete message.msgId;
                            continue;
                        }
                    case 2: {
                            if (wireType !== 2)
                                break;
                            if ((value = reader.stringVerify()).length)
                                message.service = value;
                            else
                                delete message.service;
                            continue;
                        }
                    case 3: {
                            if (wireType !== 0)
                                break;
                            if (value = reader.bool())
                                message.duplicate = value;
                            else
                                delete message.duplicate;
                            continue;
                        }
                    }
                    reader.skipType(wireType, _depth, tag);
                    if (!reader.discardUnknown) {
                        $util.makeProp(message, "$unknowns", false);
                        (message.$unknowns || (message.$unknowns = [])).push(reader.raw(start, reader.pos));
                    }
                }
                if (length !== $undefined) {
                    if (reader.pos !== end)
                        throw $RangeError("index out of range");
                    reader.len = length;
                }
                if (_end !== $undefined)
                    throw $Error("missing end group");
                return message;
            };

            /**
             * Gets the type url for ServiceAck
             * @function getTypeUrl
             * @memberof ferry.v1.ServiceAck
             * @static
             * @param {string} [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
             * @returns {string} The type url
             */
            ServiceAck.getTypeUrl = function(prefix) {
                if (prefix === $undefined)
                    prefix = "type.googleapis.com";
                return prefix + "/ferry.v1.ServiceAck";
            };

            return ServiceAck;
        })();

        return v1;
    })();

    return ferry;
})();

export {
  $root as default
};
