// Types shared by the templates.

@export()
@description('Resource tags: string values by name.')
type Tags = {
  *: string
}
