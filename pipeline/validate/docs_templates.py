# ruff: noqa: E501  (HTML templates: GX's lines, kept as GX writes them)
"""bidui's versions of the Great Expectations 1.24.1 page templates that a steward sees.

GX renders Data Docs pages with Jinja templates (`great_expectations/render/view/templates/`);
`docs_render.BiduiPageView` puts these ahead of GX's, so a page is in Chinese and carries
nothing of GX's marketing: no newsletter footer, no walkthrough pop-up, no link to GX's site, no
remote logo. They are GX's templates with those parts changed; the asset URLs stay GX's CDN
addresses, which `docs_assets.make_offline` points at the local copies (one place for that).
Templates are not auto-escaped (GX's are `.j2`): anything variable is escaped with `|e`.
"""

from __future__ import annotations

_HEAD = """
    <meta name="viewport" content="width=device-width, initial-scale=1.0" />
    <meta charset="UTF-8">
    <title>{{ (page_title or "bidui 数据校验") | e }}</title>
    <link rel="stylesheet" href="https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css">
    <link rel="stylesheet" href="https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css"/>
    <link rel="stylesheet" type="text/css" href="https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.min.css">
    <link rel="stylesheet" type="text/css" href="https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/bootstrap-datepicker.min.css">
    <link rel="stylesheet" href="https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/bootstrap-prefers-dark.css" />
    <style>{% include 'data_docs_default_styles.css' %}</style>
    <style>{% include 'data_docs_custom_styles.css' ignore missing %}</style>
    <style>{% include 'bidui_styles.css' %}</style>
    {% include 'js_script_imports.j2' %}
    <script>{% include 'bidui_table_texts.js' %}</script>
    {% include 'favicon.j2' %}
"""

PAGE = """<!DOCTYPE html>
<html lang="zh-CN">
  <head>""" + _HEAD + """
  </head>
  <body>
    {% include 'top_navbar.j2' %}
    <div class="container-fluid pt-4 pb-4 pl-5 pr-5">
      <div class="row">
        {% include 'sidebar.j2' %}
        <div class="col-md-10 col-lg-10 col-xs-12 pl-md-4 pr-md-3">
        {% for section in sections %}
          {% set section_loop = loop -%}
          {% include 'section.j2' %}
        {% endfor %}
        </div>
      </div>
    </div>
  </body>
</html>
"""

INDEX_PAGE = PAGE

TOP_NAVBAR = """{% if expectation_suite_name %}
  {% set expectation_suite_name_dot_count = expectation_suite_name.count(".") -%}
{% endif %}
{% if "ValidationResults" in renderer_type or "ProfilingResults" in renderer_type %}
  {% set home_url =  ((expectation_suite_name_dot_count + 4) * "../") + "index.html" -%}
{% elif "ExpectationSuite" in renderer_type %}
  {% set home_url = ((expectation_suite_name_dot_count + 1) * "../") + "index.html" -%}
{% elif "SiteIndex" in renderer_type %}
  {% set home_url = "#" -%}
{% endif %}
<nav class="navbar navbar-expand-md sticky-top border-bottom" style="height: 70px">
  <div class="mr-auto">
    <nav class="d-flex align-items-center">
      <a class="navbar-brand mb-0 h4" href="{{ home_url }}">bidui 数据校验</a>
      {% if page_title %}
        <ol class="ge-breadcrumbs breadcrumb d-md-inline-flex bg-light ml-2 mr-0 mt-0 mb-0 pt-0 pb-0 d-none">
            <li class="ge-breadcrumbs-item breadcrumb-item"><a href="{{ home_url }}">首页</a></li>
            <li class="ge-breadcrumbs-item breadcrumb-item active" aria-current="page">{{ page_title | e }}</li>
        </ol>
      {% endif %}
    </nav>
  </div>
</nav>
"""

GE_INFO = """<div class="mb-4">
  {% if renderer_type == "ValidationResultsPageRenderer" %}
    <div class="col-12 p-0">
      <h4>校验结果</h4>
      <p class="lead">一个输入文件（或一个输出）今晚逐项检查的结果。</p>
    </div>
  {% elif renderer_type == "ExpectationSuitePageRenderer" %}
    <div class="col-12 p-0">
      <h4>校验套件</h4>
      <p class="lead">对一类文件的全部检查项。</p>
    </div>
  {% else %}
    <div class="col-12 p-0">
      <p>bidui 每晚对输入文件和输出结果的检查。严重问题会阻止当晚发布；警告照常发布，
         请数据管理员按表中的文件、工作表和行号核对更正。</p>
    </div>
  {% endif %}
</div>
"""

PAGE_ACTION_CARD = """<script>
  function showAllValidations() {
    $(".hide-succeeded-validation-target-child").parent().fadeIn();
    $(".hide-succeeded-validation-target").fadeIn();
    $(".hide-succeeded-validations-column-section-target-child").parent().parent().each((idx, el) => {
      $(el).fadeIn();
      const elId = el.id;
      $(`a[href$=${elId}]`).fadeIn();
    })
  }
  function hideSucceededValidations() {
    $(".hide-succeeded-validation-target-child").parent().fadeOut();
    $(".hide-succeeded-validation-target").fadeOut();
    $(".hide-succeeded-validations-column-section-target-child").parent().parent().each((idx, el) => {
      $(el).fadeOut();
      const elId = el.id;
      $(`a[href$=${elId}]`).fadeOut();
    })
  }
</script>
<div class="card mb-3">
  <div class="card-header p-2"><strong>筛选</strong></div>
  <div class="card-body p-3">
    <div class="d-flex justify-content-center">
      <div class="btn-group btn-group-toggle" data-toggle="buttons">
        <label class="btn btn-primary active" onclick="showAllValidations()">
          <input type="radio" name="options" id="option1" autocomplete="off" checked> 全部
        </label>
        <label class="btn btn-primary" onclick="hideSucceededValidations()">
          <input type="radio" name="options" id="option2" autocomplete="off"> 只看未通过
        </label>
      </div>
    </div>
  </div>
</div>
"""

TABLE_OF_CONTENTS = """<div class="card d-md-block d-none" style="max-height: 75vh">
  <div class="card-header p-2"><strong>目录</strong></div>
  <div class="card-body p-0" style="overflow: auto; height: 100%">
    <nav id="navigation" class="rounded navbar bg-light ge-navigation-sidebar-container p-1" style="max-height: 65vh;">
      <ul class="nav nav-pills ge-navigation-sidebar-content col-12 p-0" style="max-height: 65vh">
        {% for section in sections %}
          <li class="nav-item col-12">
            <a class="nav-link ge-navigation-sidebar-link{{ '' if loop.first else ' ml-1' }}" href="#section-{{ loop.index }}"
               style="white-space: normal; word-break: break-all; overflow-wrap: normal;">
              {% if section['section_name'] == "Overview" %}<strong>概况</strong>{% else %}{{ section['section_name'] | e }}{% endif %}
            </a>
          </li>
        {% endfor %}
      </ul>
    </nav>
  </div>
</div>
"""

# GX's, with the toolbar button in Chinese (the table's own texts come from bootstrap-table's
# zh-CN locale, loaded by the page).
BOOTSTRAP_TABLE = """{% include 'content_block_header.j2' %}

{% if "styling" in content_block and "body" in content_block["styling"] -%}
    {% set content_block_body_styling = content_block["styling"]["body"] | render_styling -%}
{% else -%}
    {% set content_block_body_styling = "" -%}
{% endif -%}

{% set table_options = content_block.get("table_options", {}) %}
{% set table_id = content_block_id ~ "-body-table" %}
{% set table_toolbar_id = table_id ~ "-toolbar" %}

{% set table_columns = content_block["table_columns"] %}
{%- if "title_row" in content_block -%}
  {%- set title_row -%}
    <tr><th class="text-center p-2" colspan="{{ table_columns | length }}">{{ content_block["title_row"] | render_content_block }}</th></tr>
  {% endset %}
{% else %}
  {% set title_row = None %}
{% endif %}

<div id="{{ table_toolbar_id }}" class="ml-1">
  {% if table_options.get('filterControl') == "true" or table_options.get('search') == "true" %}
    <button class="btn btn-sm btn-secondary ml-1" onclick="clearTableFilters('{{ table_id }}')">清除筛选</button>
  {% endif %}
</div>

<table
  id="{{ table_id }}"
  {{ content_block_body_styling | replace("{{section_id}}", section_id) | replace("{{content_block_id}}", content_block_id) }}
  data-toggle="table"
>
</table>

{% include 'bootstrap_table_js_functions.j2' %}

<script>
  $('{{ '#' ~ table_id }}').bootstrapTable(
    Object.assign(
      {
        columns: {{ table_columns }},
        data: {{ content_block["table_data"] | render_bootstrap_table_data }},
        toolbar: '{{ '#' ~ table_toolbar_id }}'
      },
      {{ table_options }}
    )
  );

  {% if title_row %}
    $("{{ '#' ~ table_id ~ ' > thead' }}").prepend('{{ title_row | trim }}');
  {% endif %}

  {% if table_options.get("rowAttributes") == "rowAttributesLinks" %}
    $(document).ready(function() {
      $("#{{ table_id }}").on('click-row.bs.table', function(e, row, $element) {
          window.location = $element.data("href");
        })
      }
    );
  {% endif %}
</script>
"""

# bootstrap-table's texts in Chinese (what its zh-CN locale says), set before any table is built.
TABLE_TEXTS = """
if (window.jQuery && jQuery.fn.bootstrapTable) {
  jQuery.extend(jQuery.fn.bootstrapTable.defaults, {
    formatLoadingMessage: function () { return '正在加载，请稍候'; },
    formatRecordsPerPage: function (n) { return '每页显示 ' + n + ' 条记录'; },
    formatShowingRows: function (from, to, total) {
      return '显示第 ' + from + ' 到第 ' + to + ' 条记录，总共 ' + total + ' 条记录'; },
    formatSearch: function () { return '搜索'; },
    formatNoMatches: function () { return '没有找到匹配的记录'; },
    formatClearSearch: function () { return '清空过滤'; },
    formatAllRows: function () { return '所有'; }
  });
}
"""

# CJK first where the page has Chinese; Latin text keeps Bootstrap's system fonts.
STYLES = """
body { font-family: -apple-system, BlinkMacSystemFont, "Segoe UI", Roboto, "Helvetica Neue", Arial,
  "Noto Sans CJK SC", "Noto Sans SC", "PingFang SC", "Microsoft YaHei", "WenQuanYi Micro Hei",
  sans-serif; }
.bidui-failing-values { font-size: 0.9rem; width: auto; }
.bidui-failing-values th, .bidui-failing-values td { white-space: nowrap; padding: 0.2rem 0.6rem; }
/* the page's bootstrap-table styles every nested `thead th` (no padding, no border) */
.bidui-failing-values th { padding: 0.2rem 0.6rem !important; border: 1px solid #dee2e6 !important;
  background: #f8f9fa; }
.bidui-failing-title { font-weight: 600; }
.bidui-status-warning { color: #856404; }
.bidui-column-note { font-size: 0.85rem; }
"""

TEMPLATES: dict[str, str] = {
    "page.j2": PAGE,
    "index_page.j2": INDEX_PAGE,
    "top_navbar.j2": TOP_NAVBAR,
    "ge_info.j2": GE_INFO,
    "page_action_card.j2": PAGE_ACTION_CARD,
    "bootstrap_table.j2": BOOTSTRAP_TABLE,
    "table_of_contents.j2": TABLE_OF_CONTENTS,
    "cloud-footer.j2": "",
    "cta_footer.j2": "",
    "bidui_styles.css": STYLES,
    "bidui_table_texts.js": TABLE_TEXTS,
}
