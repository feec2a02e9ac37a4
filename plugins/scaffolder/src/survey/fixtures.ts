// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are the template language under test
/**
 * Templates in the shapes of backstage/software-templates' templates, written here (not copied): the
 * constructs each of those uses, for the survey in survey.test.ts. Each is one folder's files.
 */

/** The skeleton most of them share: a descriptor naming the repository by `owner + "/" + repo`. */
const SKELETON: Record<string, string> = {
  'skeleton/catalog-info.yaml': `apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: \${{values.component_id | dump}}
  {%- if values.description %}
  description: \${{values.description | dump}}
  {%- endif %}
  annotations:
    github.com/project-slug: \${{values.destination.owner + "/" + values.destination.repo}}
spec:
  type: website
  lifecycle: experimental
  owner: \${{values.owner | dump}}
`,
  'skeleton/.github/workflows/build.yml':
    'on: [push]\njobs: { build: { steps: [{ run: "echo ${{ github.sha }}" }] } }\n',
  'skeleton/README.md': '# ${{ values.component_id }}\n\n${{ values.description }}\n',
};

const NAME_OWNER_REPO = `  parameters:
    - title: Provide some simple information
      required: [component_id, owner]
      properties:
        component_id:
          title: Name
          type: string
          ui:field: EntityNamePicker
        description:
          title: Description
          type: string
        owner:
          title: Owner
          type: string
          ui:field: OwnerPicker
          ui:options:
            allowedKinds: [Group]
    - title: Choose a location
      required: [repoUrl]
      properties:
        repoUrl:
          title: Repository Location
          type: string
          ui:field: RepoUrlPicker
          ui:options:
            allowedHosts: [github.com]
`;

const PUBLISH_REGISTER = `    - id: publish
      name: Publish
      action: publish:github
      input:
        allowedHosts: ["github.com"]
        description: This is \${{ parameters.component_id }}
        repoUrl: \${{ parameters.repoUrl }}
    - id: register
      name: Register
      action: catalog:register
      input:
        repoContentsUrl: \${{ steps.publish.output.repoContentsUrl }}
        catalogInfoPath: "/catalog-info.yaml"
`;

const FETCH_SKELETON = `    - id: template
      name: Fetch Skeleton + Template
      action: fetch:template
      input:
        url: ./skeleton
        copyWithoutRender:
          - .github/workflows/*
        values:
          component_id: \${{ parameters.component_id }}
          description: \${{ parameters.description }}
          destination: \${{ parameters.repoUrl | parseRepoUrl }}
          owner: \${{ parameters.owner }}
`;

export interface SurveyTemplate {
  /** The software-templates folder whose shape it has. */
  shapeOf: string;
  /** Its folder here (default: shapeOf). */
  dir?: string;
  name: string;
  files: Record<string, string>;
  values: Record<string, unknown>;
}

export const SURVEY_TEMPLATES: SurveyTemplate[] = [
  {
    shapeOf: 'react-ssr-template',
    name: 'react-ssr-template',
    values: { component_id: 'web-shop', owner: 'ledger', repoUrl: 'github.com?owner=bank&repo=web-shop' },
    files: {
      // An owner written as an e-mail address, and an output that is a mapping of values, not links/text.
      'template.yaml': `apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata:
  name: react-ssr-template
  title: React SSR Template
  tags: [recommended, react]
spec:
  owner: web@example.com
  type: website
${NAME_OWNER_REPO}  steps:
${FETCH_SKELETON}${PUBLISH_REGISTER}  output:
    remoteUrl: \${{ steps.publish.output.remoteUrl }}
    entityRef: \${{ steps.register.output.entityRef }}
`,
      ...SKELETON,
    },
  },
  {
    shapeOf: 'create-react-app',
    name: 'create-react-app-template',
    values: { component_id: 'cra-site', owner: 'ledger', repoUrl: 'github.com?owner=bank&repo=cra-site' },
    files: {
      // A field Backstage's schema does not define (spec.id), and output links.
      'template.yaml': `apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata:
  name: create-react-app-template
  title: Create React App Template
spec:
  owner: web@example.com
  type: website
  id: 22
${NAME_OWNER_REPO}  steps:
${FETCH_SKELETON}${PUBLISH_REGISTER}  output:
    links:
      - title: Repository
        url: \${{ steps.publish.output.remoteUrl }}
      - title: Open in catalog
        icon: catalog
        entityRef: \${{ steps.register.output.entityRef }}
`,
      ...SKELETON,
    },
  },
  {
    shapeOf: 'clean-architecture-app',
    name: 'clean-architecture-java-template',
    values: {
      name: 'ledger-core',
      package: 'com.bank.ledger',
      projectType: 'reactive',
      coverage: 'jacoco',
      lombok: true,
      repoUrl: 'github.com?owner=bank&repo=ledger-core',
    },
    files: {
      // Owner a User ref without kind ("user:guest"), booleans passed through values, ui:autofocus on every field.
      'template.yaml': `apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata:
  name: clean-architecture-java-template
  title: Clean Architecture Java Template
spec:
  owner: user:guest
  type: service
  parameters:
    - title: Fill in some steps
      required: [name, package, projectType, coverage]
      properties:
        name: { title: Name, type: string, ui:autofocus: true, ui:options: { rows: 5 } }
        package: { title: Package, type: string, ui:autofocus: true }
        projectType: { title: Type imperative - reactive, type: string }
        coverage: { title: Coverage jacoco - cobertura, type: string }
        lombok: { title: With lombok, type: boolean, default: false }
        metrics: { title: With metrics, type: boolean, default: false }
    - title: Choose a location
      required: [repoUrl]
      properties:
        repoUrl: { title: Repository Location, type: string, ui:field: RepoUrlPicker, ui:options: { allowedHosts: [github.com] } }
  steps:
    - id: fetch-base
      name: Fetch Base
      action: fetch:template
      input:
        url: ./skeleton
        values:
          name: \${{ parameters.name }}
          package: \${{ parameters.package }}
          projectType: \${{ parameters.projectType }}
          coverage: \${{ parameters.coverage }}
          lombok: \${{ parameters.lombok }}
          metrics: \${{ parameters.metrics }}
    - id: publish
      name: Publish
      action: publish:github
      input:
        allowedHosts: ['github.com']
        description: This is \${{ parameters.name }}
        repoUrl: \${{ parameters.repoUrl }}
    - id: register
      name: Register
      action: catalog:register
      input:
        repoContentsUrl: \${{ steps.publish.output.repoContentsUrl }}
        catalogInfoPath: '/catalog-info.yaml'
  output:
    links:
      - title: Repository
        url: \${{ steps.publish.output.remoteUrl }}
`,
      'skeleton/catalog-info.yaml': `apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: \${{ values.name }}
  annotations:
    bank.io/build: "\${{ values.coverage }}{% if values.lombok %} lombok{% endif %}{% if values.metrics %} metrics{% endif %}"
spec:
  type: service
  lifecycle: experimental
  owner: user:guest
`,
      'skeleton/settings.gradle':
        "rootProject.name = '${{ values.name }}'\n// ${{ values.package | replace('.', '/') }}\n",
    },
  },
  {
    shapeOf: 'pull-request',
    name: 'pull-request',
    values: {
      name: 'payments-docs',
      description: 'Docs for payments',
      repoUrl: 'github.com?owner=bank&repo=handbook',
    },
    files: {
      // A plain fetch from a GitHub tree URL (through the allow-listed reader) and a pull request.
      'template.yaml': `apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata:
  name: pull-request
  title: Pull Request Action template
spec:
  owner: group:default/ledger
  type: service
  parameters:
    - title: Fill in some steps
      required: [name]
      properties:
        name: { title: Name, type: string, ui:autofocus: true, ui:options: { rows: 5 } }
        description: { title: Description, type: string }
        targetPath: { title: Target Path in repo, type: string }
    - title: Choose a location
      required: [repoUrl]
      properties:
        repoUrl: { title: Repository Location, type: string, ui:field: RepoUrlPicker, ui:options: { allowedHosts: [github.com] } }
  steps:
    - id: fetch-base
      name: Fetch Base
      action: fetch:template
      input:
        url: ./template
        values:
          name: \${{parameters.name}}
    - id: fetch-docs
      name: Fetch Docs
      action: fetch:plain
      input:
        targetPath: ./community
        url: https://github.com/bank/community/tree/main/sessions
    - id: publish
      name: Publish
      action: publish:github:pull-request
      input:
        repoUrl: \${{ parameters.repoUrl }}
        title: "Create new project: \${{parameters.name}}"
        branchName: create-\${{parameters.name}}
        description: |
          # New project: \${{parameters.name}}

          \${{ parameters.description if parameters.description else "" }}
        targetPath: \${{ parameters.targetPath if parameters.targetPath else parameters.name }}
  output:
    links:
      - url: \${{steps.publish.output.remoteUrl}}
        text: "Go to PR"
`,
      'template/catalog-info.yaml': `apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: \${{ values.name | dump }}
spec:
  type: documentation
  lifecycle: experimental
  owner: group:default/ledger
`,
    },
  },
  {
    shapeOf: 'gitlab-merge-request',
    name: 'gitlab-merge-request',
    values: {
      name: 'ledger-notes',
      targetPath: 'notes',
      branchName: 'notes',
      repoUrl: 'gitlab.com?owner=bank&repo=handbook',
    },
    files: {
      // A merge request action this portal does not have, its token from the task's secrets, `x if c` without else.
      'template.yaml': `apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata:
  name: gitlab-merge-request
  title: GitLab Merge Request Action template
spec:
  owner: group:default/ledger
  type: service
  parameters:
    - title: Fill in some steps
      required: [name]
      properties:
        name: { title: Name, type: string }
        description: { title: Description, type: string }
        targetPath: { title: Target Path in repo, type: string }
        branchName: { title: Destination Branch Name, type: string }
        assignee: { title: MR Assignee, type: string }
    - title: Choose a location
      required: [repoUrl]
      properties:
        repoUrl:
          title: Repository Location
          type: string
          ui:field: RepoUrlPicker
          ui:options:
            allowedHosts: [gitlab.com]
            requestUserCredentials:
              secretsKey: USER_OAUTH_TOKEN
  steps:
    - id: template
      name: Fetch Skeleton + Template
      action: fetch:template
      input:
        url: ./template
        targetPath: \${{ parameters.targetPath }}
        values:
          name: \${{parameters.name}}
    - id: publish
      name: Publish
      action: publish:gitlab:merge-request
      input:
        repoUrl: \${{ parameters.repoUrl }}
        title: Creating catalog-info.yaml \${{ parameters.name }} for backstage
        branchName: \${{ parameters.branchName }}
        description: |
          # New project: \${{ parameters.name }}
          \${{ parameters.description if parameters.description }}
        targetPath: \${{ parameters.targetPath if parameters.targetPath else '.' }}
        token: \${{ secrets.USER_OAUTH_TOKEN }}
        commitAction: create
        removeSourceBranch: true
        assignee: \${{ parameters.assignee }}
  output:
    links:
      - url: \${{ steps.publish.output.mergeRequestUrl }}
        title: 'Go to Gitlab MR'
`,
      'template/catalog-info.yaml': `apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: \${{ values.name }}
spec:
  type: documentation
  lifecycle: experimental
  owner: group:default/ledger
`,
    },
  },
  {
    shapeOf: 'rails-demo',
    name: 'rails-demo',
    values: {
      name: 'rails-shop',
      owner: 'ledger',
      repoUrl: 'github.com?owner=bank&repo=rails-shop',
      dryRun: true,
      railsArguments: { minimal: true, database: 'postgresql' },
    },
    files: {
      // An action of its own (fetch:rails), a step with no id, catalog:write's older `component` input,
      // projectSlug, `if: not …`, and an object parameter.
      'template.yaml': `apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata:
  name: rails-demo
  title: Rails template
spec:
  owner: group:default/ledger
  type: service
  parameters:
    - title: Fill in some steps
      required: [name, owner]
      properties:
        name: { title: Name, type: string, ui:field: EntityNamePicker }
        owner: { title: Owner, type: string, ui:field: OwnerPicker, ui:options: { allowedKinds: [Group] } }
        system: { title: System, type: string, ui:field: EntityPicker, ui:options: { allowedKinds: [System], defaultKind: System } }
    - title: Choose a location
      required: [repoUrl, dryRun]
      properties:
        repoUrl: { title: Repository Location, type: string, ui:field: RepoUrlPicker, ui:options: { allowedHosts: [github.com] } }
        dryRun: { title: Only perform a dry run, type: boolean, default: false }
        railsArguments:
          title: arguments to run the rails new command
          type: object
          properties:
            minimal: { type: boolean }
            database: { type: string, enum: [mysql, postgresql, sqlite3] }
  steps:
    - id: fetch-base
      name: Fetch Base
      action: fetch:rails
      input:
        url: ./template
        values:
          name: \${{ parameters.name }}
          railsArguments: \${{ parameters.railsArguments }}
    - name: Write Catalog information
      action: catalog:write
      input:
        component:
          apiVersion: 'backstage.io/v1alpha1'
          kind: Component
          metadata:
            name: \${{ parameters.name }}
            annotations:
              github.com/project-slug: \${{ parameters.repoUrl | projectSlug }}
          spec:
            type: service
            lifecycle: production
            owner: \${{ parameters.owner }}
    - id: publish
      if: \${{ not parameters.dryRun }}
      name: Publish
      action: publish:github
      input:
        allowedHosts: [github.com]
        description: This is \${{ parameters.name }}
        repoUrl: \${{ parameters.repoUrl }}
    - name: Results
      if: \${{ parameters.dryRun }}
      action: debug:log
      input:
        listWorkspace: true
`,
      'template/Gemfile': "source 'https://rubygems.org'\n",
    },
  },
  {
    shapeOf: 'docs-template-cookiecutter',
    name: 'docs-template-cookiecutter',
    values: {
      name: 'ledger-docs',
      description: 'How the ledger works',
      owner: 'ledger',
      repoUrl: 'github.com?owner=bank&repo=ledger-docs',
    },
    files: {
      // A cookiecutter skeleton: fetch:cookiecutter is a module Backstage installs separately.
      'template.yaml': `apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata:
  name: docs-template-cookiecutter
  title: Documentation Template (cookiecutter)
spec:
  owner: group:default/ledger
  type: documentation
  parameters:
    - title: Fill in some steps
      required: [name, description]
      properties:
        name: { title: Name, type: string }
        description: { title: Description, type: string }
        owner: { title: Owner, type: string, ui:field: OwnerPicker }
    - title: Choose a location
      required: [repoUrl]
      properties:
        repoUrl: { title: Repository Location, type: string, ui:field: RepoUrlPicker }
  steps:
    - id: fetch
      name: Template Docs Skeleton
      action: fetch:cookiecutter
      input:
        url: ./skeleton
        values:
          name: \${{ parameters.name }}
          description: \${{ parameters.description }}
          destination: \${{ parameters.repoUrl | parseRepoUrl }}
          owner: \${{ parameters.owner }}
    - id: publish
      name: Publish
      action: publish:github
      input:
        allowedHosts: ['github.com']
        description: This is \${{ parameters.name }}
        repoUrl: \${{ parameters.repoUrl }}
  output:
    links:
      - title: Repository
        url: \${{ steps.publish.output.remoteUrl }}
`,
      'skeleton/{{cookiecutter.name}}/mkdocs.yml': 'site_name: {{ cookiecutter.name }}\n',
    },
  },
  {
    shapeOf: 'docs-template (backstage.io/v1beta2)',
    dir: 'docs-template',
    name: 'docs-template',
    values: {
      name: 'ledger-docs',
      description: 'How the ledger works',
      repoUrl: 'github.com?owner=bank&repo=ledger-docs',
    },
    files: {
      // The template format Backstage dropped (v1beta2, handlebars {{ }}): refused with what to do.
      'template.yaml': `apiVersion: backstage.io/v1beta2
kind: Template
metadata:
  name: docs-template
  title: Documentation Template
spec:
  owner: backstage/techdocs-core
  type: documentation
  parameters:
    - title: Fill in some steps
      required: [name, description]
      properties:
        name: { title: Name, type: string }
        description: { title: Description, type: string }
  steps:
    - id: fetch
      name: Template Docs Skeleton
      action: fetch:template
      input:
        url: ./skeleton
        values:
          name: '{{ parameters.name }}'
          destination: '{{ parseRepoUrl parameters.repoUrl }}'
`,
      'skeleton/mkdocs.yml': 'site_name: ${{ values.name }}\n',
    },
  },
];
