/**
 * `client.security` for the kiota-based @microsoft/msgraph-sdk, registered the way the generated
 * `@microsoft/msgraph-sdk-security` package registers it: navigation and request metadata handed to
 * `extendGraphServiceClient`, with the main package's official model factories and serializers.
 *
 * That package is not published on npm (graph-clients.md, note N1), so the subset the tests use is
 * reproduced here from its generated source (security/incidents, security/alerts_v2 and
 * alerts_v2/{id}/comments): the same URI templates, query-parameter mappers, adapter methods, factories
 * and error mappings. Importing this module is what `import "@microsoft/msgraph-sdk-security"` does.
 */
import { extendGraphServiceClient } from "@microsoft/msgraph-sdk";
import { createODataErrorFromDiscriminatorValue } from "@microsoft/msgraph-sdk/models/oDataErrors/index.js";
import {
  createAlertCollectionResponseFromDiscriminatorValue,
  createAlertCommentFromDiscriminatorValue,
  createAlertFromDiscriminatorValue,
  createIncidentCollectionResponseFromDiscriminatorValue,
  createIncidentFromDiscriminatorValue,
  serializeAlert,
  serializeAlertComment,
  serializeIncident,
  type Alert,
  type AlertCollectionResponse,
  type AlertComment,
  type Incident,
  type IncidentCollectionResponse,
} from "@microsoft/msgraph-sdk/models/security/index.js";
import type {
  BaseRequestBuilder,
  NavigationMetadata,
  Parsable,
  ParsableFactory,
  RequestConfiguration,
  RequestInformation,
  RequestsMetadata,
} from "@microsoft/kiota-abstractions";

/** Query options of a collection GET, as the generated builders name them. */
export interface CollectionQueryParameters {
  count?: boolean;
  expand?: string[];
  filter?: string;
  orderby?: string[];
  search?: string;
  select?: string[];
  skip?: number;
  top?: number;
}

export interface ItemQueryParameters {
  expand?: string[];
  select?: string[];
}

export interface IncidentItemRequestBuilder extends BaseRequestBuilder<IncidentItemRequestBuilder> {
  get(requestConfiguration?: RequestConfiguration<ItemQueryParameters>): Promise<Incident | undefined>;
  patch(body: Incident, requestConfiguration?: RequestConfiguration<object>): Promise<Incident | undefined>;
  toGetRequestInformation(requestConfiguration?: RequestConfiguration<ItemQueryParameters>): RequestInformation;
}

export interface IncidentsRequestBuilder extends BaseRequestBuilder<IncidentsRequestBuilder> {
  byIncidentId(incidentId: string): IncidentItemRequestBuilder;
  get(requestConfiguration?: RequestConfiguration<CollectionQueryParameters>): Promise<IncidentCollectionResponse | undefined>;
  toGetRequestInformation(requestConfiguration?: RequestConfiguration<CollectionQueryParameters>): RequestInformation;
}

export interface AlertCommentsRequestBuilder extends BaseRequestBuilder<AlertCommentsRequestBuilder> {
  post(body: AlertComment[], requestConfiguration?: RequestConfiguration<object>): Promise<AlertComment[] | undefined>;
}

export interface AlertItemRequestBuilder extends BaseRequestBuilder<AlertItemRequestBuilder> {
  get comments(): AlertCommentsRequestBuilder;
  get(requestConfiguration?: RequestConfiguration<ItemQueryParameters>): Promise<Alert | undefined>;
  patch(body: Alert, requestConfiguration?: RequestConfiguration<object>): Promise<Alert | undefined>;
}

export interface Alerts_v2RequestBuilder extends BaseRequestBuilder<Alerts_v2RequestBuilder> {
  byAlertId(alertId: string): AlertItemRequestBuilder;
  get(requestConfiguration?: RequestConfiguration<CollectionQueryParameters>): Promise<AlertCollectionResponse | undefined>;
}

export interface SecurityRequestBuilder extends BaseRequestBuilder<SecurityRequestBuilder> {
  get incidents(): IncidentsRequestBuilder;
  get alerts_v2(): Alerts_v2RequestBuilder;
}

declare module "@microsoft/msgraph-sdk" {
  interface GraphServiceClient {
    /** Provides operations to manage the security singleton. */
    get security(): SecurityRequestBuilder;
  }
}

const errorMappings = { XXX: createODataErrorFromDiscriminatorValue as ParsableFactory<Parsable> };

const collectionQuery: Record<string, string> = {
  count: "%24count",
  expand: "%24expand",
  filter: "%24filter",
  orderby: "%24orderby",
  search: "%24search",
  select: "%24select",
  skip: "%24skip",
  top: "%24top",
};
const itemQuery: Record<string, string> = { expand: "%24expand", select: "%24select" };
const collectionTemplate = (path: string) => `{+baseurl}${path}{?%24count,%24expand,%24filter,%24orderby,%24search,%24select,%24skip,%24top}`;

const incidentItem: RequestsMetadata = {
  get: {
    uriTemplate: "{+baseurl}/security/incidents/{incident%2Did}{?%24expand,%24select}",
    responseBodyContentType: "application/json",
    errorMappings,
    adapterMethodName: "send",
    responseBodyFactory: createIncidentFromDiscriminatorValue,
    queryParametersMapper: itemQuery,
  },
  patch: {
    uriTemplate: "{+baseurl}/security/incidents/{incident%2Did}{?%24expand,%24select}",
    responseBodyContentType: "application/json",
    errorMappings,
    adapterMethodName: "send",
    responseBodyFactory: createIncidentFromDiscriminatorValue,
    requestBodyContentType: "application/json",
    requestBodySerializer: serializeIncident,
    requestInformationContentSetMethod: "setContentFromParsable",
  },
};

const incidents: NavigationMetadata = {
  requestsMetadata: {
    get: {
      uriTemplate: collectionTemplate("/security/incidents"),
      responseBodyContentType: "application/json",
      errorMappings,
      adapterMethodName: "send",
      responseBodyFactory: createIncidentCollectionResponseFromDiscriminatorValue,
      queryParametersMapper: collectionQuery,
    },
  },
  navigationMetadata: {
    byIncidentId: { requestsMetadata: incidentItem, pathParametersMappings: ["incident%2Did"] },
  },
};

const alertComments: RequestsMetadata = {
  post: {
    uriTemplate: "{+baseurl}/security/alerts_v2/{alert%2Did}/comments",
    responseBodyContentType: "application/json",
    errorMappings,
    adapterMethodName: "sendCollection",
    responseBodyFactory: createAlertCommentFromDiscriminatorValue,
    requestBodyContentType: "application/json",
    requestBodySerializer: serializeAlertComment,
    requestInformationContentSetMethod: "setContentFromParsable",
  },
};

const alertItem: RequestsMetadata = {
  get: {
    uriTemplate: "{+baseurl}/security/alerts_v2/{alert%2Did}{?%24expand,%24select}",
    responseBodyContentType: "application/json",
    errorMappings,
    adapterMethodName: "send",
    responseBodyFactory: createAlertFromDiscriminatorValue,
    queryParametersMapper: itemQuery,
  },
  patch: {
    uriTemplate: "{+baseurl}/security/alerts_v2/{alert%2Did}{?%24expand,%24select}",
    responseBodyContentType: "application/json",
    errorMappings,
    adapterMethodName: "send",
    responseBodyFactory: createAlertFromDiscriminatorValue,
    requestBodyContentType: "application/json",
    requestBodySerializer: serializeAlert,
    requestInformationContentSetMethod: "setContentFromParsable",
  },
};

const alertsV2: NavigationMetadata = {
  requestsMetadata: {
    get: {
      uriTemplate: collectionTemplate("/security/alerts_v2"),
      responseBodyContentType: "application/json",
      errorMappings,
      adapterMethodName: "send",
      responseBodyFactory: createAlertCollectionResponseFromDiscriminatorValue,
      queryParametersMapper: collectionQuery,
    },
  },
  navigationMetadata: {
    byAlertId: {
      requestsMetadata: alertItem,
      navigationMetadata: { comments: { requestsMetadata: alertComments } },
      pathParametersMappings: ["alert%2Did"],
    },
  },
};

extendGraphServiceClient({
  security: { navigationMetadata: { incidents, alerts_v2: alertsV2 } },
});
